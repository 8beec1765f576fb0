/**
 * One load level: N callers at once against one gateway. Callers join spread over `spreadMs` (so
 * their turns do not all fall in the same second, as real callers' would not); what is measured
 * is the window after the last one joined, `durationS` long (or, with `turns`, every turn).
 */
import { loadavg } from 'node:os';
import { Caller, type CallerAudio, type CallerRecorder, type TurnSample } from './caller.js';
import type { ExpectedLatency, TurnWindows } from './expected-latency.js';
import { MicClock } from './mic-clock.js';
import type { ResourceSample, ServerResources } from './server-resources.js';
import { percentiles, round1, type Percentiles } from './stats.js';

export interface LevelOptions {
  server: string;
  sessions: number;
  /** Length of the measured window; null with `turns`. */
  durationS: number | null;
  /** Utterances per caller; null with `durationS`. */
  turns: number | null;
  spreadMs: number;
  audio: CallerAudio;
  pauseMs: number;
  bargeInAfterMs: number | null;
  /** Each reply calls a tool of the caller's that answers after this long (null: no tools). */
  toolLatencyMs: number | null;
  replyTimeoutMs: number;
  /** The expected latency once the gateway's turn settings are known (from the first `ready`). */
  expect: (windows: TurnWindows) => ExpectedLatency;
  resources: ServerResources | null;
  /** The gateway's resident memory before any session, for memory per session. */
  idleResidentBytes: number | null;
  onProgress?: (status: LevelProgress) => void;
  /** Callers of another kind than the gRPC one (phone calls: ./phone-caller.ts), given when to stop. */
  createCaller?: (limits: { maxTurns: number | null; stopAt: number }, clock: MicClock, recorder: CallerRecorder) => BenchCaller;
}

/** What a level needs of a caller. */
export interface BenchCaller {
  /** Opens the call; resolves with the gateway's turn settings once it can speak. */
  start(): Promise<TurnWindows>;
  end(): void;
  readonly done: Promise<void>;
}

export interface LevelProgress {
  elapsedS: number;
  connected: number;
  turns: number;
  voiceToVoiceP50Ms: number | null;
  voiceToVoiceP99Ms: number | null;
  errors: number;
  serverCpuPercent: number | null;
  serverResidentMb: number | null;
}

export interface LevelReport {
  sessions: number;
  connected: number;
  window_s: number;
  turns: number;
  expected_ms: ExpectedLatency | null;
  voice_to_voice_ms: Percentiles;
  overhead_ms: Percentiles;
  server_voice_to_voice_ms: Percentiles;
  /** Turns whose reply started on the stable interim and was kept (hit), thrown away (miss), or neither. */
  speculative: { hit: number; miss: number; none: number };
  barge_in: { count: number; missed: number; to_last_audio_ms: Percentiles; to_done_ms: Percentiles; overhead_ms: Percentiles };
  errors: { count: number; by_code: Record<string, number>; examples: string[] };
  server: {
    cpu_cores: number;
    cpu_percent_per_session: number;
    resident_mb: number;
    idle_resident_mb: number | null;
    mb_per_session: number | null;
    event_loop_lag_p99_ms: number | null;
  } | null;
  /**
   * The load generator, which shares the machine: how late its microphone chunks went out, the CPU
   * it used, and the machine's 1-minute load average at the end (above the core count, every
   * process waited for a core, the gateway too).
   */
  client: { send_lag_ms: Percentiles; cpu_cores: number; event_loop_utilization: number; machine_load_1m: number };
}

const SAMPLE_EVERY_MS = 1000;
const MAX_ERROR_EXAMPLES = 5;
/** After the window, callers finish their turn; past this they are stopped. */
const TAIL_GRACE_MS = 10_000;

class Recorder implements CallerRecorder {
  readonly turns: TurnSample[] = [];
  readonly bargeIns: Array<{ toLastAudioMs: number; toDoneMs: number; at: number }> = [];
  missedBargeIns = 0;
  readonly errorsByCode: Record<string, number> = {};
  readonly examples: string[] = [];
  errors = 0;
  readonly lags: number[] = [];
  windowStart = Infinity;

  turn(sample: TurnSample): void {
    this.turns.push(sample);
  }
  bargeIn(sample: { toLastAudioMs: number; toDoneMs: number } | 'missed', at: number): void {
    if (sample === 'missed') {
      if (at >= this.windowStart) this.missedBargeIns++;
    } else this.bargeIns.push({ ...sample, at });
  }
  error(code: string, message: string): void {
    this.errors++;
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    if (this.examples.length < MAX_ERROR_EXAMPLES) this.examples.push(`${code}: ${message}`);
  }
  sendLag(ms: number): void {
    if (performance.now() >= this.windowStart) this.lags.push(ms);
  }
}

export async function runLevel(options: LevelOptions): Promise<LevelReport> {
  const recorder = new Recorder();
  const clock = new MicClock(options.audio.chunkMs);
  const startedAt = performance.now();
  const windowStart = startedAt + options.spreadMs;
  const stopAt = options.durationS === null ? Infinity : windowStart + options.durationS * 1000;
  recorder.windowStart = options.turns === null ? windowStart : startedAt;
  const callers: BenchCaller[] = [];
  let windows: TurnWindows | null = null;
  let connected = 0;
  clock.start();
  const clientCpu = process.cpuUsage();
  const clientCpuAt = performance.now();
  const clientLoop = performance.eventLoopUtilization();

  const joins = Array.from({ length: options.sessions }, (_, i) => {
    const caller = options.createCaller
      ? options.createCaller({ maxTurns: options.turns, stopAt }, clock, recorder)
      : new Caller(
          { server: options.server, audio: options.audio, pauseMs: options.pauseMs, bargeInAfterMs: options.bargeInAfterMs, toolLatencyMs: options.toolLatencyMs, maxTurns: options.turns, stopAt, replyTimeoutMs: options.replyTimeoutMs },
          clock,
          recorder,
        );
    callers.push(caller);
    const delayMs = options.sessions > 1 ? (i * options.spreadMs) / options.sessions : 0;
    return new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(async () => {
      try {
        const settings = await caller.start();
        windows ??= settings;
        connected++;
      } catch (error) {
        recorder.error('session_start', (error as Error).message);
        caller.end();
      }
    });
  });

  const samples: ResourceSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const sample = await options.resources?.sample().catch(() => null);
      if (sample) samples.push(sample);
      options.onProgress?.(progressOf(recorder, connected, startedAt, samples));
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
  })();

  await Promise.all(joins);
  const allDone = Promise.all(callers.map((c) => c.done));
  const hardStop = options.durationS === null ? null : stopAt + options.replyTimeoutMs + TAIL_GRACE_MS;
  if (hardStop === null) await allDone;
  else {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allDone, new Promise((resolve) => (timer = setTimeout(resolve, hardStop - performance.now())))]);
    clearTimeout(timer);
    for (const caller of callers) caller.end();
    await allDone;
  }
  const windowEnd = Math.min(stopAt, performance.now());
  sampling = false;
  await sampler;
  clock.stop();

  const expected = windows ? options.expect(windows) : null;
  const inWindow = <T extends { at: number }>(list: T[]) => list.filter((s) => s.at >= recorder.windowStart && s.at <= windowEnd);
  const turns = inWindow(recorder.turns);
  const voice = turns.map((t) => t.voiceToVoiceMs);
  const bargeIns = inWindow(recorder.bargeIns);
  // Each turn against what it would take with no gateway: a speculative hit is expected sooner.
  const expectedOf = (t: TurnSample) => (t.speculative === 'hit' && expected?.speculativeVoiceToVoiceMs != null ? expected.speculativeVoiceToVoiceMs : expected?.voiceToVoiceMs ?? 0);
  return {
    sessions: options.sessions,
    connected,
    window_s: round1((windowEnd - recorder.windowStart) / 1000),
    turns: voice.length,
    expected_ms: expected,
    voice_to_voice_ms: percentiles(voice),
    overhead_ms: percentiles(expected ? turns.map((t) => t.voiceToVoiceMs - expectedOf(t)) : []),
    server_voice_to_voice_ms: percentiles(turns.flatMap((t) => (t.serverVoiceToVoiceMs === null ? [] : [t.serverVoiceToVoiceMs]))),
    speculative: { hit: count(turns, 'hit'), miss: count(turns, 'miss'), none: count(turns, 'none') },
    barge_in: {
      count: bargeIns.length,
      missed: recorder.missedBargeIns,
      to_last_audio_ms: percentiles(bargeIns.map((b) => b.toLastAudioMs)),
      to_done_ms: percentiles(bargeIns.map((b) => b.toDoneMs)),
      overhead_ms: percentiles(expected ? bargeIns.map((b) => b.toDoneMs - expected.bargeInMs) : []),
    },
    errors: { count: recorder.errors, by_code: recorder.errorsByCode, examples: recorder.examples },
    server: serverUse(samples.filter((s) => s.at >= recorder.windowStart), options),
    client: {
      send_lag_ms: percentiles(recorder.lags),
      cpu_cores: round3(cpuSecondsSince(clientCpu) / ((performance.now() - clientCpuAt) / 1000)),
      // Near 1, the load generator itself was the bottleneck and its lateness is in the latencies.
      event_loop_utilization: round3(performance.eventLoopUtilization(clientLoop).utilization),
      machine_load_1m: round3(loadavg()[0]!),
    },
  };
}

/** CPU over the window (first to last reading in it) and mean resident memory in it. */
function serverUse(samples: ResourceSample[], options: LevelOptions): LevelReport['server'] {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || last === first) return null;
  const cpuCores = (last.cpuSeconds - first.cpuSeconds) / ((last.at - first.at) / 1000);
  const residentMb = samples.reduce((sum, s) => sum + s.residentBytes, 0) / samples.length / 2 ** 20;
  const idleMb = options.idleResidentBytes === null ? null : options.idleResidentBytes / 2 ** 20;
  const lags = samples.map((s) => s.eventLoopLagP99Ms).filter((v): v is number => v !== null);
  return {
    cpu_cores: round3(cpuCores),
    cpu_percent_per_session: round3((cpuCores * 100) / options.sessions),
    resident_mb: round1(residentMb),
    idle_resident_mb: idleMb === null ? null : round1(idleMb),
    mb_per_session: idleMb === null ? null : round3((residentMb - idleMb) / options.sessions),
    event_loop_lag_p99_ms: lags.length > 0 ? round1(Math.max(...lags)) : null,
  };
}

function progressOf(recorder: Recorder, connected: number, startedAt: number, samples: ResourceSample[]): LevelProgress {
  const recent = recorder.turns.slice(-500).map((s) => s.voiceToVoiceMs);
  const v = percentiles(recent);
  const [a, b] = samples.slice(-2);
  const cpu = a && b && b.at > a.at ? ((b.cpuSeconds - a.cpuSeconds) * 100000) / (b.at - a.at) : null;
  return {
    elapsedS: Math.round((performance.now() - startedAt) / 1000),
    connected,
    turns: recorder.turns.length,
    voiceToVoiceP50Ms: v.p50,
    voiceToVoiceP99Ms: v.p99,
    errors: recorder.errors,
    serverCpuPercent: cpu === null ? null : Math.round(cpu),
    serverResidentMb: b ? Math.round(b.residentBytes / 2 ** 20) : null,
  };
}

function count(turns: TurnSample[], outcome: TurnSample['speculative']): number {
  return turns.filter((t) => t.speculative === outcome).length;
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
