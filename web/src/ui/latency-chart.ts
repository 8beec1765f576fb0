/** The per-turn latency chart: plain SVG drawn from `turn_metrics`, the last few turns. */
import type { TurnMetrics } from '../../../src/gen/voice/v1/voice_pb.js';
import { LATENCY_SERIES, layoutChart, type ChartBox, type TurnLatencies } from './latency-layout.js';

const SVG = 'http://www.w3.org/2000/svg';
const SHOWN_TURNS = 6;
const BOX: ChartBox = { width: 360, height: 190, left: 44, right: 6, top: 10, bottom: 24 };

export class LatencyChart {
  private readonly turns: TurnLatencies[] = [];
  private count = 0;

  constructor(
    private readonly container: HTMLElement,
    legend: HTMLUListElement,
    private readonly headline: HTMLElement,
  ) {
    LATENCY_SERIES.forEach((series, i) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = `swatch s${i}`;
      item.append(swatch, series.label);
      legend.append(item);
    });
  }

  add(metrics: TurnMetrics): void {
    this.count++;
    this.turns.push({
      label: `Turn ${this.count}`,
      eouDelayMs: metrics.eouDelayMs,
      asrFinalMs: metrics.asrFinalMs,
      llmTtftMs: metrics.llmTtftMs,
      ttsTtfbMs: metrics.ttsTtfbMs,
      voiceToVoiceMs: metrics.voiceToVoiceMs,
    });
    if (this.turns.length > SHOWN_TURNS) this.turns.shift();
    if (metrics.voiceToVoiceMs > 0) this.headline.textContent = formatMs(metrics.voiceToVoiceMs);
    this.draw();
  }

  private draw(): void {
    const layout = layoutChart(this.turns, BOX);
    const svg = element('svg', { viewBox: `0 0 ${BOX.width} ${BOX.height}`, role: 'img', class: 'chart-svg' });
    const latest = this.turns.at(-1);
    svg.setAttribute('aria-label', `Latency of the last ${this.turns.length} turns. ${latest ? describe(latest) : ''}`);
    for (const tick of layout.ticks) {
      svg.append(element('line', { x1: BOX.left, x2: BOX.width - BOX.right, y1: tick.y, y2: tick.y, class: tick.valueMs === 0 ? 'axis' : 'grid' }));
      const label = element('text', { x: BOX.left - 6, y: tick.y + 3, class: 'tick', 'text-anchor': 'end' });
      label.textContent = formatMs(tick.valueMs);
      svg.append(label);
    }
    for (const bar of layout.bars) {
      const rect = element('rect', { x: bar.x, y: bar.y, width: bar.width, height: Math.max(bar.height, 1), rx: 1.5, class: `bar s${bar.series}` });
      const title = element('title', {});
      title.textContent = `${this.turns[bar.turn]?.label ?? ''}, ${LATENCY_SERIES[bar.series]?.label ?? ''}: ${formatMs(bar.valueMs)}`;
      rect.append(title);
      svg.append(rect);
    }
    for (const group of layout.groups) {
      const label = element('text', { x: group.x, y: BOX.height - 8, class: 'tick', 'text-anchor': 'middle' });
      label.textContent = group.label.replace('Turn ', 'T');
      svg.append(label);
    }
    this.container.replaceChildren(svg);
  }
}

function describe(turn: TurnLatencies): string {
  const parts = LATENCY_SERIES.filter((s) => (turn[s.key] ?? 0) > 0).map((s) => `${s.label} ${formatMs(turn[s.key] ?? 0)}`);
  return `${turn.label}: ${parts.join(', ')}.`;
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function element(name: string, attributes: Record<string, string | number>): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}
