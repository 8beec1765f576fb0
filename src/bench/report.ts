/** The bench's results as a table for people (stdout) and as JSON for programs (`--json`). */
import type { SimulatedProfile } from '../providers/simulated/profile.js';
import type { LevelReport } from './load-level.js';
import type { RampReport } from './ramp.js';
import type { Percentiles } from './stats.js';

export interface BenchReport {
  command: string;
  /** The protocol the callers spoke: grpc (voice.v1), twilio or asterisk. */
  transport: string;
  started_at: string;
  server: { address: string; spawned: boolean; metrics_url: string | null };
  profile: SimulatedProfile;
  utterance: { source: string; speech_ms: number; chunk_ms: number };
  settings: { duration_s: number | null; turns: number | null; spread_ms: number; pause_ms: number; barge_in_after_ms: number | null; tool_latency_ms?: number | null };
  runs: LevelReport[];
  ramp: RampReport | null;
}

const COLUMNS = ['p50', 'p95', 'p99', 'max', 'count'] as const;

function row(label: string, p: Percentiles): string {
  const cells = COLUMNS.map((c) => (p[c] === null ? '-' : String(p[c])).padStart(8));
  return `  ${label.padEnd(34)}${cells.join('')}`;
}

/** One level: latency percentiles, errors, and what the gateway used. */
export function formatLevel(level: LevelReport): string {
  const e = level.expected_ms;
  const lines = [
    `${level.sessions} sessions (${level.connected} connected), ${level.turns} turns measured in ${level.window_s} s`,
    e
      ? `  expected voice to voice with no gateway: ${e.voiceToVoiceMs} ms = end of turn ${e.endOfTurnMs} + ASR final ${e.asrFinalMs} ${e.toolRoundMs ? ` + tool round ${e.toolRoundMs} (LLM call + tool)` : ''} + LLM first piece ${e.llmFirstPieceMs} + TTS first byte ${e.ttsFirstByteMs}` +
        (e.speculativeVoiceToVoiceMs === null ? '' : `; ${e.speculativeVoiceToVoiceMs} ms for a speculative start (reply ready from the stable interim, held until the final)`)
      : '  expected latency unknown: no session started',
    `  speculative start: ${level.speculative.hit} hits, ${level.speculative.miss} misses, ${level.speculative.none} turns without`,
    `  ${''.padEnd(34)}${COLUMNS.map((c) => c.padStart(8)).join('')}`,
    row('voice to voice (ms)', level.voice_to_voice_ms),
    row('overhead (ms)', level.overhead_ms),
    row('voice to voice, gateway-measured', level.server_voice_to_voice_ms),
  ];
  if (level.barge_in.count > 0 || level.barge_in.missed > 0) {
    lines.push(
      row('barge-in: onset -> last audio (ms)', level.barge_in.to_last_audio_ms),
      row('barge-in: onset -> interrupted', level.barge_in.to_done_ms),
      row('barge-in overhead (ms)', level.barge_in.overhead_ms),
      `  barge-ins not honoured: ${level.barge_in.missed}`,
    );
  }
  const errors = level.errors;
  lines.push(`  errors: ${errors.count}${errors.count > 0 ? ` (${Object.entries(errors.by_code).map(([k, v]) => `${k} ${v}`).join(', ')}); e.g. ${errors.examples[0] ?? ''}` : ''}`);
  const s = level.server;
  lines.push(
    s
      ? `  gateway: ${s.cpu_cores} cores = ${s.cpu_percent_per_session}% of a core per session; resident ${s.resident_mb} MB` +
          (s.mb_per_session === null ? '' : ` (idle ${s.idle_resident_mb} MB) = ${s.mb_per_session} MB per session`) +
          (s.event_loop_lag_p99_ms === null ? '' : `; event-loop delay p99 ${s.event_loop_lag_p99_ms} ms`)
      : '  gateway: CPU and memory not measured (no metrics URL)',
  );
  const c = level.client;
  lines.push(`  load generator: ${c.cpu_cores} cores, event loop ${Math.round(c.event_loop_utilization * 100)}% busy; send lag p50 ${c.send_lag_ms.p50 ?? '-'} ms, p99 ${c.send_lag_ms.p99 ?? '-'} ms (late chunks count in the latencies); machine load ${c.machine_load_1m}`);
  return `${lines.join('\n')}\n`;
}

/** The ramp: one line per level, then the answer. */
export function formatRamp(ramp: RampReport): string {
  const head = ['sessions', 'turns', 'v2v p50', 'v2v p99', 'ovh p50', 'ovh p99', 'errors', 'cores', 'MB/sess'];
  const lines = [`ramp (budget: p99 overhead <= ${ramp.budget_ms} ms, no errors)`, `  ${head.map((h) => h.padStart(9)).join('')}`];
  for (const step of ramp.steps) {
    const cells = [
      step.sessions,
      step.turns,
      step.voice_to_voice_ms.p50,
      step.voice_to_voice_ms.p99,
      step.overhead_ms.p50,
      step.overhead_ms.p99,
      step.errors.count,
      step.server?.cpu_cores ?? null,
      step.server?.mb_per_session ?? null,
    ];
    lines.push(`  ${cells.map((c) => (c === null ? '-' : String(c)).padStart(9)).join('')}`);
  }
  const answer = ramp.max_sessions_within_budget;
  lines.push(answer === null ? `  no level within budget (${ramp.why_stopped})` : `  last within budget: ${answer} sessions (stopped: ${ramp.why_stopped})`);
  if (ramp.sessions_per_core !== null) lines.push(`  ${ramp.sessions_per_core} sessions per core of gateway CPU at ${answer} sessions`);
  if (ramp.mb_per_session_slope !== null) lines.push(`  ${ramp.mb_per_session_slope} MB of resident memory per added session (slope over the levels)`);
  return `${lines.join('\n')}\n`;
}
