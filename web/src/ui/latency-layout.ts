/**
 * The geometry of the per-turn latency chart: grouped bars, one group per turn, one bar per
 * measure, on a shared axis with round ticks. Pure (no DOM), so it is tested in Node.
 */

export const LATENCY_SERIES = [
  { key: 'eouDelayMs', label: 'End of turn' },
  { key: 'asrFinalMs', label: 'ASR final' },
  { key: 'llmTtftMs', label: 'LLM first token' },
  { key: 'ttsTtfbMs', label: 'TTS first byte' },
  { key: 'voiceToVoiceMs', label: 'Voice to voice' },
] as const;

export type LatencyKey = (typeof LATENCY_SERIES)[number]['key'];
/** One turn's measures in ms; 0 or missing means not measured (the wire's zero value). */
export type TurnLatencies = { label: string } & Partial<Record<LatencyKey, number>>;

export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface Bar {
  turn: number;
  series: number;
  valueMs: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartLayout {
  bars: Bar[];
  ticks: Array<{ valueMs: number; y: number }>;
  groups: Array<{ label: string; x: number }>;
}

/** The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 10). */
export function roundUp(value: number): number {
  if (value <= 10) return 10;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function layoutChart(turns: TurnLatencies[], box: ChartBox): ChartLayout {
  const plotWidth = box.width - box.left - box.right;
  const plotHeight = box.height - box.top - box.bottom;
  const maxMs = roundUp(Math.max(0, ...turns.flatMap((t) => LATENCY_SERIES.map((s) => t[s.key] ?? 0))));
  const yOf = (ms: number) => box.top + plotHeight - (ms / maxMs) * plotHeight;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ valueMs: f * maxMs, y: yOf(f * maxMs) }));
  const groupWidth = turns.length > 0 ? plotWidth / turns.length : plotWidth;
  const barWidth = (groupWidth * 0.78) / LATENCY_SERIES.length;
  const bars: Bar[] = [];
  const groups = turns.map((turn, t) => {
    const groupLeft = box.left + t * groupWidth + groupWidth * 0.11;
    LATENCY_SERIES.forEach((series, s) => {
      const valueMs = turn[series.key] ?? 0;
      if (!(valueMs > 0)) return; // not measured: no bar, rather than a misleading zero
      const y = yOf(valueMs);
      bars.push({ turn: t, series: s, valueMs, x: groupLeft + s * barWidth, y, width: barWidth * 0.86, height: box.top + plotHeight - y });
    });
    return { label: turn.label, x: box.left + (t + 0.5) * groupWidth };
  });
  return { bars, ticks, groups };
}
