/**
 * Prometheus metrics of the gateway, fed by core events through a SessionObserver and served on
 * `GET /metrics`. Every label takes values from a small fixed set: session and turn ids are never
 * labels (they would make one series per conversation).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode, TurnMetrics } from '../core/events.js';
import type { SessionEndCause, SessionObserver } from '../core/session.js';
import type { TurnReport } from '../core/turn-metrics.js';
import { ToolMetrics } from './tool-metrics.js';

export type BackendKind = 'vad' | 'asr' | 'llm' | 'tts';

export interface GatewayMetricsOptions {
  /** Upper bounds (seconds) of the latency histograms' buckets, ascending. */
  latencyBucketsS: number[];
  /** The configured provider of each kind (a label of backend errors), e.g. { llm: 'openai' }. */
  providers: Record<BackendKind, string>;
}

const PREFIX = 'voice_gateway_';

/** Per-stage latencies of a turn (docs/architecture.md §6), by their label value; voice-to-voice has its own. */
const STAGES = {
  eou_delay: 'eouDelayMs',
  asr_final: 'asrFinalMs',
  llm_ttft: 'llmTtftMs',
  llm_first_piece: 'llmFirstPieceMs',
  tts_ttfb: 'ttsTtfbMs',
} as const satisfies Record<string, keyof TurnMetrics>;

const END_CAUSES: SessionEndCause[] = [
  'client_ended',
  'client_gone',
  'agent_ended',
  'client_too_slow',
  'client_flood',
  'idle_timeout',
  'max_duration',
  'transport_error',
  'shutdown',
  'start_timeout',
  'internal_error',
  'other',
];

/** Errors that mean a backend failed, and which backend. */
const BACKEND_OF_CODE: Partial<Record<ErrorCode, BackendKind>> = { asr_unavailable: 'asr', llm_unavailable: 'llm', tts_unavailable: 'tts' };

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly voiceToVoice: Histogram<never>;
  private readonly stage: Histogram<'stage'>;
  private readonly sessionsActive: Gauge<never>;
  private readonly sessionsStarted: Counter<never>;
  private readonly sessionsEnded: Counter<'reason'>;
  private readonly turns: Counter<'outcome'>;
  private readonly bargeIns: Counter<never>;
  private readonly falseInterruptions: Counter<never>;
  private readonly historyTrimmed: Counter<never>;
  private readonly speculative: Counter<'outcome'>;
  private readonly errors: Counter<'code'>;
  private readonly backendErrors: Counter<'backend' | 'provider' | 'code'>;
  private readonly audio: Counter<'direction'>;
  private readonly internalErrors: Counter<'scope'>;
  private readonly tools: ToolMetrics;

  constructor(private readonly options: GatewayMetricsOptions) {
    const registers = [this.registry];
    const buckets = options.latencyBucketsS;
    // Process CPU and memory, heap, GC, handles and event-loop delay (nodejs_eventloop_lag_*).
    collectDefaultMetrics({ register: this.registry });
    this.voiceToVoice = new Histogram({
      name: `${PREFIX}voice_to_voice_seconds`,
      help: 'End of user speech (or typed text) to the first reply audio sent, per turn',
      buckets,
      registers,
    });
    this.stage = new Histogram({
      name: `${PREFIX}turn_stage_seconds`,
      help: 'Per-stage latency of a turn: eou_delay (end of speech to end of turn), asr_final (end of speech to final transcript), llm_ttft, llm_first_piece, tts_ttfb',
      labelNames: ['stage'],
      buckets,
      registers,
    });
    this.sessionsActive = new Gauge({ name: `${PREFIX}sessions_active`, help: 'Sessions open now', registers });
    this.sessionsStarted = new Counter({ name: `${PREFIX}sessions_started_total`, help: 'Sessions opened', registers });
    this.sessionsEnded = new Counter({ name: `${PREFIX}sessions_ended_total`, help: 'Sessions closed, by reason', labelNames: ['reason'], registers });
    this.turns = new Counter({ name: `${PREFIX}turns_total`, help: 'Replies ended, by outcome (completed, interrupted, failed)', labelNames: ['outcome'], registers });
    this.bargeIns = new Counter({ name: `${PREFIX}barge_ins_total`, help: 'Replies interrupted by user speech', registers });
    this.falseInterruptions = new Counter({
      name: `${PREFIX}false_interruptions_total`,
      help: 'Paused replies that resumed: the user speech that paused them had no words, or only backchannel (interruption_mode pause)',
      registers,
    });
    this.speculative = new Counter({
      name: `${PREFIX}speculative_starts_total`,
      help: 'Replies started on a stable interim transcript: hit (the final agreed) or miss (restarted)',
      labelNames: ['outcome'],
      registers,
    });
    this.errors = new Counter({ name: `${PREFIX}errors_total`, help: 'Errors sent to clients, by code', labelNames: ['code'], registers });
    this.historyTrimmed = new Counter({ name: `${PREFIX}history_trimmed_total`, help: 'LLM requests whose oldest turns were left out to fit LLM_CONTEXT_TOKENS', registers });
    this.backendErrors = new Counter({
      name: `${PREFIX}backend_errors_total`,
      help: 'Backend failures by backend (asr, llm, tts), provider and code (the error code, or abandoned: it ignored cancellation past CANCEL_BUDGET_MS)',
      labelNames: ['backend', 'provider', 'code'],
      registers,
    });
    this.audio = new Counter({ name: `${PREFIX}audio_seconds_total`, help: 'Audio received from clients (in) and sent in replies (out)', labelNames: ['direction'], registers });
    this.internalErrors = new Counter({
      name: `${PREFIX}internal_errors_total`,
      help: 'Bugs that surfaced (an exception or rejection nothing else handled): session = in one session\'s work, which was closed; process = outside any session',
      labelNames: ['scope'],
      registers,
    });
    this.tools = new ToolMetrics(this.registry, buckets);

    // Series that exist from the start, so rates and dashboards show 0 rather than nothing.
    for (const outcome of ['completed', 'interrupted', 'failed']) this.turns.inc({ outcome }, 0);
    for (const outcome of ['hit', 'miss']) this.speculative.inc({ outcome }, 0);
    for (const reason of END_CAUSES) this.sessionsEnded.inc({ reason }, 0);
    for (const direction of ['in', 'out']) this.audio.inc({ direction }, 0);
    for (const scope of ['session', 'process']) this.internalErrors.inc({ scope }, 0);
    for (const stage of Object.keys(STAGES)) this.stage.zero({ stage });
  }

  /** One observer serves every session: it keeps no per-session state. */
  readonly observer: Required<SessionObserver> = {
    onOpened: () => {
      this.sessionsStarted.inc();
      this.sessionsActive.inc();
    },
    onAudio: (direction, durationMs) => this.audio.inc({ direction }, durationMs / 1000),
    onTurn: (report) => this.recordTurn(report),
    onAbandoned: (kind) => this.backendErrors.inc({ backend: kind, provider: this.options.providers[kind], code: 'abandoned' }),
    onFalseInterruption: () => this.falseInterruptions.inc(),
    onError: (code) => {
      this.errors.inc({ code });
      const backend = BACKEND_OF_CODE[code];
      if (backend) this.backendErrors.inc({ backend, provider: this.options.providers[backend], code });
    },
    onInternalError: () => this.internalErrors.inc({ scope: 'session' }),
    onClosed: (_reason, cause) => {
      this.sessionsActive.dec();
      this.sessionsEnded.inc({ reason: cause });
    },
    onCheckpoint: () => undefined,
  };

  /** A bug outside any session (the process-level handler, internal-errors.ts). */
  countProcessInternalError(): void {
    this.internalErrors.inc({ scope: 'process' });
  }

  /** The `GET /metrics` handler (Prometheus text format). */
  readonly handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end(`${request.method} is not served here: use GET /metrics\n`);
      return;
    }
    const body = await this.registry.metrics();
    response.writeHead(200, { 'content-type': this.registry.contentType }).end(request.method === 'HEAD' ? undefined : body);
  };

  private recordTurn({ metrics, status, bargeIn, historyTrimmed, toolCalls }: TurnReport): void {
    this.turns.inc({ outcome: status });
    this.tools.record(toolCalls);
    if (bargeIn) this.bargeIns.inc();
    if (historyTrimmed) this.historyTrimmed.inc();
    if (metrics.speculative !== 'none') this.speculative.inc({ outcome: metrics.speculative });
    if (metrics.voiceToVoiceMs !== undefined) this.voiceToVoice.observe(metrics.voiceToVoiceMs / 1000);
    for (const [stage, field] of Object.entries(STAGES)) {
      const ms = metrics[field];
      if (ms !== undefined) this.stage.observe({ stage }, ms / 1000);
    }
  }
}
