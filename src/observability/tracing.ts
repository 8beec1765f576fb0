/**
 * OpenTelemetry traces: one span per turn with child spans for recognition, end of turn, the LLM
 * (first token and first piece as events), each TTS piece, each tool call and a barge-in. The spans are built
 * when the turn's reply ends, from the moments the core recorded on the way, so nothing sits in
 * the audio path and a gateway without tracing pays nothing.
 *
 * Off by default. On when OTEL_TRACES_EXPORTER is `otlp` or `console`, or an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_TRACES_EXPORTER is
 * not `none`; OTEL_SDK_DISABLED=true turns it off. The OTLP exporter (http/protobuf), the batch
 * processor and the sampler read the other standard OTEL_* variables themselves.
 */
import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { SessionObserver } from '../core/session.js';
import type { TurnReport } from '../core/turn-metrics.js';

export type TracesExporterSetting = '' | 'otlp' | 'console' | 'none';

export interface TracingSettings {
  /** OTEL_TRACES_EXPORTER ('' = not set). */
  exporter: TracesExporterSetting;
  /** OTEL_EXPORTER_OTLP_ENDPOINT ('' = not set): the base URL; traces go to <base>/v1/traces. */
  otlpEndpoint: string;
  /** Transcripts and reply text become span attributes (TRACE_INCLUDE_TEXT). */
  includeText: boolean;
}

export interface TurnTracingOptions {
  includeText: boolean;
  /** `simple` exports each span as it ends (tests); `batch` queues them (production). */
  processor?: 'simple' | 'batch';
}

const TRACER_NAME = 'voice-gateway';

/** The exporter the settings ask for, or null when tracing is off. */
export function chooseExporter(settings: TracingSettings, env: Record<string, string | undefined>): 'otlp' | 'console' | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || settings.exporter === 'none') return null;
  if (settings.exporter === 'otlp' || settings.exporter === 'console') return settings.exporter;
  return settings.otlpEndpoint || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : null;
}

/** Tracing as the settings ask for it, or null (off: no provider, no exporter, no observer). */
export function tracingFromSettings(settings: TracingSettings, env: Record<string, string | undefined> = process.env): TurnTracing | null {
  const kind = chooseExporter(settings, env);
  if (!kind) return null;
  if (kind === 'console') return new TurnTracing(new ConsoleSpanExporter(), { includeText: settings.includeText, processor: 'simple' });
  // A signal-specific endpoint wins over the base one, as the OTLP specification says.
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? undefined : settings.otlpEndpoint ? `${settings.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
  return new TurnTracing(new OTLPTraceExporter(url ? { url } : {}), { includeText: settings.includeText, processor: 'batch' });
}

export class TurnTracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly includeText: boolean;

  constructor(exporter: SpanExporter, options: TurnTracingOptions) {
    this.includeText = options.includeText;
    const processor = options.processor === 'simple' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
    const resource = defaultResource()
      .merge(resourceFromAttributes({ 'service.name': TRACER_NAME }))
      .merge(detectResources({ detectors: [envDetector] })); // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    this.provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
    this.tracer = this.provider.getTracer(TRACER_NAME);
  }

  /** An observer for one session (it learns the session's id when the session opens). */
  forSession(): SessionObserver {
    let sessionId = '';
    return {
      onOpened: (id) => (sessionId = id),
      onTurn: (report) => this.recordTurn(sessionId, report),
    };
  }

  /** Exports what is queued (before a test reads the exporter, or at shutdown). */
  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }

  private recordTurn(sessionId: string, report: TurnReport): void {
    // The core records performance.now() moments; one wall-clock base for the whole turn keeps
    // its spans consistent with each other (the SDK would correct each span by its own offset).
    const wallClockBaseMs = Date.now() - performance.now();
    const wall = (at: number) => wallClockBaseMs + at;
    const { metrics, turn, reply } = report;
    const endedAt = wall(report.endedAt);
    const startAt = wall(turn.speechStartAt ?? turn.speechEndAt ?? turn.turnEndedAt ?? reply.llmRequestAt ?? report.endedAt);
    const attributes: Attributes = {
      'voice.session.id': sessionId,
      'voice.turn.id': metrics.turnId,
      'voice.response.id': metrics.responseId,
      'voice.response.status': report.status,
      'voice.response.audio_ms': Math.round(report.audioSentMs),
      'voice.speculative': metrics.speculative,
      'voice.barge_in': report.bargeIn !== undefined,
    };
    for (const [name, value] of Object.entries(metrics)) {
      if (typeof value === 'number') attributes[`voice.latency.${snakeCase(name)}`] = value;
    }
    if (this.includeText) {
      attributes['voice.transcript'] = report.userText;
      attributes['voice.response.heard_text'] = report.heardText;
    }
    const root = this.tracer.startSpan('voice.turn', { startTime: startAt, attributes, root: true });
    if (report.status === 'failed') root.setStatus({ code: SpanStatusCode.ERROR, message: 'the reply failed' });
    const parent = trace.setSpan(ROOT_CONTEXT, root);
    /** A child span from `from` to `to` (or the end of the turn), with events at the moments given. */
    const child = (name: string, from: number | undefined, to: number | undefined, attrs: Attributes = {}, events: Record<string, number | undefined> = {}): void => {
      if (from === undefined) return;
      const span = this.tracer.startSpan(name, { startTime: wall(from), attributes: attrs }, parent);
      for (const [event, at] of Object.entries(events)) if (at !== undefined) span.addEvent(event, wall(at));
      span.end(to === undefined ? endedAt : wall(Math.max(from, to)));
    };

    child('voice.asr', turn.speechStartAt, turn.asrFinalAt ?? turn.turnEndedAt, { 'voice.asr.final': turn.asrFinalAt !== undefined });
    if (turn.speechEndAt !== undefined) child('voice.end_of_turn', turn.speechEndAt, turn.turnEndedAt);
    child('voice.llm', reply.llmRequestAt, reply.llmDoneAt, {}, { first_token: reply.llmFirstTokenAt, first_piece: reply.llmFirstPieceAt });
    reply.ttsPieces?.forEach((piece, index) => {
      const attrs: Attributes = { 'voice.tts.piece_index': index, 'voice.tts.chars': piece.text.length, 'voice.tts.audio_ms': Math.round(piece.audioMs) };
      if (this.includeText) attrs['voice.tts.text'] = piece.text;
      child('voice.tts', piece.requestAt, piece.doneAt, attrs, { first_audio: piece.firstAudioAt });
    });
    for (const call of report.toolCalls ?? []) {
      const attrs: Attributes = { 'voice.tool.name': call.name, 'voice.tool.kind': call.kind, 'voice.tool.outcome': call.outcome, 'voice.tool.call_id': call.callId };
      if (call.server) attrs['voice.tool.server'] = call.server;
      child('voice.tool', call.startedAt, call.endedAt, attrs);
    }
    if (report.bargeIn) {
      const { speechStartAt, detectedAt } = report.bargeIn;
      child('voice.barge_in', speechStartAt, detectedAt, { 'voice.barge_in.speech_ms': Math.round(detectedAt - speechStartAt) });
    }
    root.end(endedAt);
  }
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
