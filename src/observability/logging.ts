/**
 * Structured logs (pino, one JSON object per line). Every line about a session carries its
 * `sessionId`, every line about a turn its `turnId` too (child loggers). Audio never goes to the
 * log; what the user said and what of the reply was heard appear only at debug level.
 */
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import type { SessionObserver } from '../core/session.js';

export type LogLevel = Level | 'silent';

/** The gateway's logger: JSON lines on stdout (or `destination`), from `level` up. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return destination ? pino({ level }, destination) : pino({ level });
}

/** An observer that logs one session's life: opened, each turn, errors, closed. */
export function sessionLogObserver(log: Logger): SessionObserver {
  let sessionLog = log;
  return {
    onOpened: (sessionId) => {
      sessionLog = log.child({ sessionId });
      sessionLog.info('session opened');
    },
    onTurn: ({ metrics, status, bargeIn, audioSentMs, userText, heardText, historyTrimmed, end, toolCalls }) => {
      const { turnId, responseId, ...latencies } = metrics;
      const turnLog = sessionLog.child({ turnId, responseId });
      const why = { ...(end?.cause ? { cause: end.cause } : {}), ...(end?.error ? { retryable: end.error.retryable } : {}) };
      turnLog.info({ status, ...why, bargeIn: bargeIn !== undefined, audioSentMs: Math.round(audioSentMs), metrics: latencies, ...(historyTrimmed ? { historyTrimmed } : {}) }, 'turn');

      // Words people said are personal data: only when someone asked for debug logs.
      if (turnLog.isLevelEnabled('debug')) turnLog.debug({ transcript: userText, heardText }, 'turn text');
      for (const call of toolCalls ?? []) {
        const { name: tool, kind, server, outcome, callId } = call;
        const durationMs = Math.round(call.endedAt - call.startedAt);
        // A tool's arguments carry what users asked for (order numbers, names): debug only, like their words.
        const args = turnLog.isLevelEnabled('debug') ? { arguments: call.arguments } : {};
        turnLog.info({ tool, kind, ...(server ? { server } : {}), outcome, durationMs, callId, ...args }, 'tool call');
      }
    },
    onError: (code, message) => sessionLog.warn({ code }, message),
    onInternalError: (error) => sessionLog.error({ err: error }, 'internal error: the session was closed; other sessions go on'),
    onAbandoned: (kind) => sessionLog.warn({ backend: kind }, `the ${kind} provider ignored cancellation past CANCEL_BUDGET_MS and was abandoned`),
    onClosed: (reason, cause) => sessionLog.info({ cause, reason }, 'session closed'),
  };
}
