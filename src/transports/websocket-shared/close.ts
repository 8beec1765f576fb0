/**
 * WebSocket close codes (RFC 6455 section 7.4, IANA registry) and how a session's end maps onto
 * them. A browser sees only the code and the reason, so the reason is the sentence to act on.
 */
import type { WebSocket } from 'ws';
import type { ErrorCode, ServerEvent } from '../../core/events.js';
import type { SessionEndCause } from '../../core/session.js';

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

/** A close reason is at most 123 bytes of UTF-8 (the control frame's 125 less the code). */
const MAX_REASON_BYTES = 123;

export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_REASON_BYTES) return text;
  let cut = text.slice(0, MAX_REASON_BYTES - 3);
  while (Buffer.byteLength(`${cut}...`) > MAX_REASON_BYTES) cut = cut.slice(0, -1);
  return `${cut}...`;
}

const FATAL_CLOSE: Partial<Record<ErrorCode, number>> = {
  resource_exhausted: CLOSE.policyViolation,
  unauthenticated: CLOSE.policyViolation,
  invalid_argument: CLOSE.policyViolation,
  failed_precondition: CLOSE.policyViolation,
  unavailable: CLOSE.goingAway,
  resume_refused: CLOSE.policyViolation,
  reconnect_to_resume: CLOSE.serviceRestart,
};

/** The close code for a session that ended with every event sent: `last` is its last event. */
export function closeCodeFor(last: ServerEvent | undefined, cause: SessionEndCause | undefined): number {
  if (last?.type === 'error' && !last.sessionContinues) return FATAL_CLOSE[last.code] ?? CLOSE.internalError;
  if (cause === 'shutdown') return CLOSE.goingAway;
  if (cause === 'client_too_slow' || cause === 'client_flood') return CLOSE.policyViolation;
  return CLOSE.normal;
}

/** Starts the close handshake; a client that does not finish it within `graceMs` is cut off. */
export function closeWithin(ws: WebSocket, code: number, reason: string, graceMs: number): void {
  ws.close(code, closeReason(reason));
  const timer = setTimeout(() => ws.terminate(), graceMs);
  timer.unref();
  ws.once('close', () => clearTimeout(timer));
}
