/**
 * One client connection, as a transport holds it. It drives a session: a new one, or, when its
 * `start` carries a resume token, the session that token names (held by this process, or restored
 * from the store). Its server events come from whichever session it drives; when another
 * connection takes that session over, this one ends. Events that arrive while a resume is being
 * decided wait, in order, and are bounded like the session's own inbound queue.
 *
 * It holds the connection's admission (src/auth, via the composition root): released when the
 * connection ends, or handed to its session when that session waits for a resume.
 */
import type { ClientEvent, ServerEvent } from '../core/events.js';
import type { SessionPort } from '../core/session-port.js';
import type { SessionEndCause } from '../core/session-config.js';
import { AsyncQueue } from '../lib/async-queue.js';
import { byteSizeOf } from '../lib/byte-size.js';

/** What the link asks of the process's live sessions (./live-sessions.ts). */
export interface LinkOwner {
  readonly outboundQueueMaxBytes: number;
  readonly inboundQueueMaxMessages: number;
  readonly inboundQueueMaxBytes: number;
  /** Decides a resume: the link then drives the resumed session, or it was told why not. */
  resume(link: SessionLink, start: Extract<ClientEvent, { type: 'start' }>): Promise<void>;
  /** The client ended cleanly: the session ends. */
  ended(link: SessionLink): void;
  /** The connection is gone: its session waits for a resume (or ends, if it cannot be resumed). */
  gone(link: SessionLink, reason: string, cause: SessionEndCause): void;
}

/** The part of a session a link drives. */
export interface DrivenSession {
  readonly started: boolean;
  handle(event: ClientEvent): void;
  rejectMessage(reason: string): void;
  bind<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void;
  fail(error: unknown): void;
}

/** The admission a connection holds (src/auth/admission.ts): its principal and its slot in the limits. */
export interface AdmissionSlot {
  readonly principal: string;
  /** The connection (or the session it left waiting) is over. */
  release(): void;
  /** The slot goes on for a session waiting for a resume; false: the principal has its limit of those. */
  park(): boolean;
}

export class SessionLink implements SessionPort {
  readonly events: AsyncQueue<ServerEvent>;
  /** The credential's principal (src/auth): only it may resume a session. */
  readonly principal: string;
  /** The session this connection drives (set by the owner). */
  session!: DrivenSession;
  private waiting: Array<(session: DrivenSession) => void> | null = null;
  private waitingBytes = 0;
  private finished = false;
  private finishedBecause: string | undefined;
  private finishedCause: SessionEndCause | undefined;
  private readonly lifetime = new AbortController();
  /** Released when the connection finishes, unless its session took it (`takeSlot`). */
  private slot: AdmissionSlot | null;

  constructor(
    private readonly owner: LinkOwner,
    admission: AdmissionSlot,
  ) {
    this.slot = admission;
    this.principal = admission.principal;
    this.events = new AsyncQueue<ServerEvent>({
      maxSize: owner.outboundQueueMaxBytes,
      sizeOf: byteSizeOf,
      onReturn: () => this.close('the transport stopped reading events', 'client_gone'),
    });
  }

  handle(event: ClientEvent): void {
    this.drive((session) => {
      if (event.type === 'start' && event.resumeToken && !session.started && !this.waiting) {
        this.waiting = [];
        this.owner.resume(this, event).then(
          () => this.flushWaiting(),
          (error: unknown) => {
            this.fail(error);
            this.flushWaiting();
          },
        );
        return;
      }
      session.handle(event);
    }, event);
  }

  rejectMessage(reason: string): void {
    this.drive((session) => session.rejectMessage(reason), reason);
  }

  end(): void {
    if (!this.finished) this.owner.ended(this);
  }

  close(reason: string, cause: SessionEndCause = 'other'): void {
    if (!this.finished) this.owner.gone(this, reason, cause);
  }

  /** Runs `handler` in the scope of the session driven when it is called (a resume changes it). */
  bind<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
    return (...args) => this.session.bind(handler)(...args);
  }

  fail(error: unknown): void {
    if (!this.finished) this.session.fail(error);
  }

  /** The connection's admission, for the session it leaves waiting for a resume; null if already taken. */
  takeSlot(): AdmissionSlot | null {
    const slot = this.slot;
    this.slot = null;
    return slot;
  }

  get closedSignal(): AbortSignal {
    return this.lifetime.signal;
  }

  get closeReason(): string | undefined {
    return this.finishedBecause;
  }

  get closeCause(): SessionEndCause | undefined {
    return this.finishedCause;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** A server event for this connection; false if the client is too far behind (the caller ends it). */
  deliver(event: ServerEvent): boolean {
    if (this.finished) return true;
    return this.events.push(event);
  }

  /** This connection is over: the transport sends what is queued and closes. */
  finish(reason: string | undefined, cause: SessionEndCause | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.finishedBecause = reason;
    this.finishedCause = cause;
    this.waiting = null;
    this.takeSlot()?.release();
    this.events.end();
    this.lifetime.abort();
  }

  /** `message`: what a waiting message holds, counted like the session's inbound queue counts it. */
  private drive(act: (session: DrivenSession) => void, message: unknown): void {
    if (this.finished) return;
    if (!this.waiting) return act(this.session);
    const bytes = byteSizeOf(message);
    const { inboundQueueMaxMessages: maxMessages, inboundQueueMaxBytes: maxBytes } = this.owner;
    if (this.waiting.length >= maxMessages || this.waitingBytes + bytes > maxBytes) {
      const message = `more than ${maxMessages} client messages or ${maxBytes} bytes came while the session was being resumed`;
      this.deliver({ type: 'error', code: 'resource_exhausted', message, sessionContinues: false });
      this.close('too many messages while resuming', 'client_flood');
      return;
    }
    this.waiting.push(act);
    this.waitingBytes += bytes;
  }

  /** The resume is decided: what came meanwhile goes to the session now driven, in order. */
  private flushWaiting(): void {
    const waiting = this.waiting ?? [];
    this.waiting = null;
    this.waitingBytes = 0;
    for (const act of waiting) if (!this.finished) act(this.session);
  }
}
