/**
 * WebSocket close codes (RFC 6455 section 7.4, IANA registry) and how a session's end maps onto
 * them. A browser sees only the code and the reason, so the reason is the sentence to act on.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ErrorCode, ServerEvent } from '../core/events.js';
import type { SessionEndCause } from '../core/session.js';

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
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

/** Closes every socket of `wss` (1001) and cuts off those that do not answer within `waitMs`. */
export async function closeAllClients(wss: WebSocketServer, reason: string, waitMs: number): Promise<void> {
  const open = [...wss.clients];
  for (const ws of open) ws.close(CLOSE.goingAway, closeReason(reason));
  const deadline = Date.now() + waitMs;
  while (open.some((ws) => ws.readyState !== ws.CLOSED) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const ws of open) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

/** Answers a WebSocket upgrade with an HTTP error and a plain-text reason instead of a socket. */
export function refuseUpgradeText(socket: Duplex, status: 400 | 401 | 403 | 429 | 503, reason: string, retryAfterS?: number): void {
  const text = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status];
  const body = `${reason}\n`;
  const retry = retryAfterS === undefined ? '' : `retry-after: ${retryAfterS}\r\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${retry}connection: close\r\n\r\n${body}`);
}
