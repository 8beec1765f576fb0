/**
 * Which session a piece of work belongs to, wherever it runs: each session runs its own work
 * (its inbound loop, replies, recognizer streams, timers, and the transport handlers it binds)
 * inside its scope, and Node carries the scope through promises, timers and callbacks. So an error
 * that escapes everything else (an unhandled rejection, an uncaught exception) can still be laid
 * at one session's door: the process-level handler (observability/internal-errors.ts) ends that
 * session with a clear error and the others go on.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface SessionScope {
  readonly sessionId: string;
  /** Ends the session with an internal error (a bug surfaced in its work). */
  fail(error: unknown): void;
}

const storage = new AsyncLocalStorage<SessionScope>();

/** The session whose work is running now, if any. */
export function currentSessionScope(): SessionScope | undefined {
  return storage.getStore();
}

/** Runs `work` inside `scope`: everything it starts belongs to that session. */
export function runInSessionScope<T>(scope: SessionScope, work: () => T): T {
  return storage.run(scope, work);
}
