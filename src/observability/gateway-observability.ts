/**
 * Metrics, traces and logs of a gateway, put together from the configuration: what the
 * composition root hands each new session as its observer, and what it shuts down at the end.
 */
import type { Logger } from 'pino';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/schema.js';
import type { SessionObserver } from '../core/session.js';
import { sessionLogObserver } from './logging.js';
import { GatewayMetrics, type BackendKind } from './metrics.js';
import { tracingFromSettings, TurnTracing } from './tracing.js';

export interface ObservabilityOptions {
  config: Config;
  log: Logger;
  /** The provider of each kind, for backend error labels ('custom' for providers made elsewhere). */
  providerNames: Record<BackendKind, string>;
  /** Spans go here instead of where the OTEL_* settings say (tests, embedding). */
  traceExporter?: SpanExporter;
}

export class GatewayObservability {
  readonly metrics: GatewayMetrics;
  readonly tracing: TurnTracing | null;
  private readonly log: Logger;

  constructor({ config, log, providerNames, traceExporter }: ObservabilityOptions) {
    this.log = log;
    this.metrics = new GatewayMetrics({ latencyBucketsS: config.METRICS_LATENCY_BUCKETS_S, providers: providerNames });
    this.tracing = traceExporter
      ? new TurnTracing(traceExporter, { includeText: config.TRACE_INCLUDE_TEXT, processor: 'simple' })
      : tracingFromSettings({ exporter: config.OTEL_TRACES_EXPORTER, otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, includeText: config.TRACE_INCLUDE_TEXT });
  }

  /** The observer of one new session: logs, metrics, traces (when on), then `extra`. */
  forSession(extra: SessionObserver = {}): SessionObserver {
    const observers = [sessionLogObserver(this.log), this.metrics.observer, ...(this.tracing ? [this.tracing.forSession()] : []), extra];
    return fanOut(observers, (error, method) => this.log.error({ err: error, method }, 'a session observer failed; the session goes on'));
  }

  /** Sends the spans still queued. */
  async shutdown(): Promise<void> {
    await this.tracing?.shutdown();
  }
}

/**
 * One observer that calls each of `observers` in order. A failing observer is reported and
 * skipped: measuring must never break a conversation. The return type lists every method, so a
 * method added to SessionObserver must be forwarded here too.
 */
export function fanOut(observers: SessionObserver[], onFailure: (error: unknown, method: keyof SessionObserver) => void): Required<SessionObserver> {
  const each = (method: keyof SessionObserver, call: (o: SessionObserver) => void) => {
    for (const observer of observers) {
      try {
        call(observer);
      } catch (error) {
        onFailure(error, method);
      }
    }
  };
  return {
    onOpened: (sessionId) => each('onOpened', (o) => o.onOpened?.(sessionId)),
    onAudio: (direction, durationMs) => each('onAudio', (o) => o.onAudio?.(direction, durationMs)),
    onTurn: (report) => each('onTurn', (o) => o.onTurn?.(report)),
    onAbandoned: (kind) => each('onAbandoned', (o) => o.onAbandoned?.(kind)),
    onFalseInterruption: () => each('onFalseInterruption', (o) => o.onFalseInterruption?.()),
    onError: (code, message) => each('onError', (o) => o.onError?.(code, message)),
    onInternalError: (error) => each('onInternalError', (o) => o.onInternalError?.(error)),
    onClosed: (reason, cause) => each('onClosed', (o) => o.onClosed?.(reason, cause)),
    onCheckpoint: () => each('onCheckpoint', (o) => o.onCheckpoint?.()),
  };
}
