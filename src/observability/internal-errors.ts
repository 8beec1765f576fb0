/**
 * The last line: errors that escaped every handler (an unhandled rejection, an uncaught exception).
 * Each session runs its work in its own scope (core/session-scope.ts), so such an error is laid at
 * one session's door whenever it came from one: that session is closed with an `internal` error
 * (its log line has its sessionId, `voice_gateway_internal_errors_total{scope="session"}` counts
 * it) and every other session goes on. An error outside any session is logged and counted
 * (`scope="process"`); a rejection leaves the process serving, while an uncaught exception, after
 * which the process's state is not known, calls `onUnsafe` (the gateway drains and exits).
 */
import type { Logger } from 'pino';
import { currentSessionScope } from '../core/session-scope.js';
import type { GatewayMetrics } from './metrics.js';

export interface ProcessGuardOptions {
  log: Logger;
  metrics: GatewayMetrics;
  /** After an uncaught exception outside any session (once). */
  onUnsafe: () => void;
}

/** Installs the handlers; returns the function that removes them. */
export function guardProcess({ log, metrics, onUnsafe }: ProcessGuardOptions): () => void {
  let unsafe = false;
  const handle = (error: unknown, kind: 'uncaught_exception' | 'unhandled_rejection') => {
    const session = currentSessionScope();
    if (session) {
      session.fail(error); // logs with the session's id and counts, through its observers
      return;
    }
    metrics.countProcessInternalError();
    log.error({ err: error, kind }, 'internal error outside any session');
    if (kind === 'uncaught_exception' && !unsafe) {
      unsafe = true;
      log.error('the process state is unknown after an uncaught exception: draining, then exiting');
      onUnsafe();
    }
  };
  const onException = (error: Error) => handle(error, 'uncaught_exception');
  const onRejection = (reason: unknown) => handle(reason, 'unhandled_rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
