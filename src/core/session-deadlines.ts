/**
 * The time bounds of one session, each ending it with a message the client can act on:
 *
 *  - START_TIMEOUT_MS: no `start` came after the connection opened;
 *  - SESSION_IDLE_TIMEOUT_MS: no client event was accepted for that long (refused ones do not
 *    count, so garbage cannot keep a session open). It does not run while no client is connected:
 *    the resume window (RESUME_WINDOW_MS, src/resume) bounds that wait;
 *  - SESSION_MAX_DURATION_MS: from when the session first opened, so a resumed session (in this
 *    process or restored elsewhere) gets no more time than it had left.
 *
 * Timers are made in the caller's async context: the session makes them inside its scope, so their
 * callbacks are its work (./session-scope.ts).
 */
import type { ErrorCode } from './events.js';
import type { SessionConfig, SessionEndCause } from './session-config.js';

export type DeadlineSettings = Pick<SessionConfig, 'startTimeoutMs' | 'idleTimeoutMs' | 'maxDurationMs'>;

/** A bound was passed: the session ends with this error. */
export type Expired = (code: ErrorCode, message: string, cause: SessionEndCause) => void;

export class SessionDeadlines {
  private startTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private durationTimer: NodeJS.Timeout | undefined;
  /** No client is connected: no idle time runs. */
  private paused = false;
  /** When the session first opened (ms since the epoch); a restored session sets its saved one. */
  openedAtMs = Date.now();

  constructor(
    private readonly settings: DeadlineSettings,
    private readonly expired: Expired,
  ) {}

  /** The connection opened: the start and idle clocks run. */
  opened(): void {
    const { startTimeoutMs } = this.settings;
    const message = `no "start" message came within ${startTimeoutMs / 1000} s: the first message of a session must be start`;
    this.startTimer = setTimeout(() => this.expired('failed_precondition', message, 'start_timeout'), startTimeoutMs);
    this.activity();
  }

  /** The session started (or was restored): the duration counts from `openedAtMs`. */
  started(): void {
    clearTimeout(this.startTimer);
    const { maxDurationMs } = this.settings;
    const leftMs = Math.max(0, this.openedAtMs + maxDurationMs - Date.now());
    const message = `the session reached its maximum duration of ${maxDurationMs / 1000} s: start a new session`;
    this.durationTimer = setTimeout(() => this.expired('resource_exhausted', message, 'max_duration'), leftMs);
  }

  /** A client event was accepted: the idle clock starts again. */
  activity(): void {
    clearTimeout(this.idleTimer);
    if (this.paused) return;
    const { idleTimeoutMs } = this.settings;
    const message = `no message from the client for ${idleTimeoutMs / 1000} s: the session was closed as idle`;
    this.idleTimer = setTimeout(() => this.expired('resource_exhausted', message, 'idle_timeout'), idleTimeoutMs);
  }

  /** No client is connected (true) or one is back (false: the idle clock starts again). */
  pauseIdle(paused: boolean): void {
    this.paused = paused;
    this.activity();
  }

  stop(): void {
    clearTimeout(this.startTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.durationTimer);
  }
}
