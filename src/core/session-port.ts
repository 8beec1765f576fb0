/**
 * What a transport holds for one client connection: client events in, server events out, and how
 * it ended. A Session is one; so is a connection that may resume an earlier session
 * (src/resume/session-link.ts), which is why transports see this and not the Session class.
 */
import type { AsyncQueue } from '../lib/async-queue.js';
import type { ClientEvent, ServerEvent } from './events.js';
import type { SessionEndCause } from './session-config.js';

export interface SessionPort {
  /** Server events for the transport to send, bounded in bytes. */
  readonly events: AsyncQueue<ServerEvent>;
  /** Takes one client event; never throws (problems become `error` events). */
  handle(event: ClientEvent): void;
  /** A message the transport could not parse: the client hears why; the session goes on. */
  rejectMessage(reason: string): void;
  /** The client ended its stream: finish cleanly. */
  end(): void;
  /** The connection is over (the client went away, the transport failed, or a limit). */
  close(reason: string, cause?: SessionEndCause): void;
  /**
   * `handler` run in the scope of the session this connection drives when it is called
   * (./session-scope.ts): a bug in a transport callback ends that session, not the process.
   */
  bind<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void;
  /** A bug surfaced in the transport's work for this connection: its session ends with `internal`. */
  fail(error: unknown): void;
  /** Aborted when the connection's session ends: a transport blocked on a slow client stops waiting. */
  readonly closedSignal: AbortSignal;
  readonly closeReason: string | undefined;
  readonly closeCause: SessionEndCause | undefined;
}
