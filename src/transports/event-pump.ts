/**
 * Moves a session's server events to a transport with backpressure. Every transport (gRPC,
 * WebSocket) needs the same loop, and the same answer to a client that stops reading: the
 * session's outbound queue is the bound (OUTBOUND_QUEUE_MAX_BYTES); the transport's own buffer is
 * only its high-water mark, and once the session has closed, nothing waits on the client forever.
 */
import type { ServerEvent } from '../core/events.js';
import type { SessionPort } from '../core/session-port.js';

/** What a transport gives the pump: its socket or call, seen as a buffered writer. */
export interface EventSink {
  /** False once the client is gone: nothing more can be sent. */
  readonly open: boolean;
  /** Sends one event; false when the transport's buffer is past its high-water mark. */
  send(event: ServerEvent): boolean;
  /**
   * Resolves when the buffer has room again, or the client is gone. When `stop` aborts, the wait
   * is no longer needed: remove its listeners (it may then never settle).
   */
  drained(stop: AbortSignal): Promise<unknown>;
}

export type PumpEnd =
  /** Every event was handed to the transport; `last` tells how the session ended. */
  | { kind: 'done'; last: ServerEvent | undefined }
  /** The client went away. */
  | { kind: 'gone' }
  /** The session closed while the client held the transport's buffer full. */
  | { kind: 'stuck' };

export interface PumpOptions {
  /**
   * After the session closed for another reason than a slow client (it ended, was shut down),
   * how long a client still behind on reading gets to catch up before it counts as stuck.
   */
  closeGraceMs: number;
}

/** Sends `session.events` to `sink` until the session ends or the client is gone or stuck. */
export async function pumpEvents(session: SessionPort, sink: EventSink, { closeGraceMs }: PumpOptions): Promise<PumpEnd> {
  let last: ServerEvent | undefined;
  for await (const event of session.events) {
    if (!sink.open) return { kind: 'gone' };
    last = event;
    if (sink.send(event)) continue;
    const room = await waitForRoom(session, sink, closeGraceMs);
    if (room !== 'room') return { kind: room };
  }
  return sink.open ? { kind: 'done', last } : { kind: 'gone' };
}

async function waitForRoom(session: SessionPort, sink: EventSink, closeGraceMs: number): Promise<'room' | 'gone' | 'stuck'> {
  // One controller per wait removes every listener it added, so a long session leaks none.
  const wait = new AbortController();
  try {
    const drained = sink.drained(wait.signal).then(
      () => 'room' as const,
      () => 'room' as const, // a failed wait means the client is gone; `open` says so below
    );
    const first = await Promise.race([drained, aborted(session.closedSignal, wait.signal).then(() => 'closed' as const)]);
    if (first === 'closed') {
      // A client too slow to read gets nothing more; any other close leaves it a grace to catch up.
      if (session.closeCause === 'client_too_slow') return 'stuck';
      const late = await Promise.race([drained, delay(closeGraceMs, wait.signal).then(() => 'stuck' as const)]);
      if (late === 'stuck') return 'stuck';
    }
    return sink.open ? 'room' : 'gone';
  } finally {
    wait.abort();
  }
}

/** Resolves when `signal` aborts; never, once `stop` aborts (its listener is removed then). */
function aborted(signal: AbortSignal, stop: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    stop.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), { once: true });
  });
}

function delay(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stop.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });
}
