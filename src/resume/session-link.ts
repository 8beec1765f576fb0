/**
 * One client connection, as a transport holds it. It drives a session: a new one, or, when its
 * `start` carries a resume token, the session that token names (held by this process, or restored
 * from the store). Its server events come from whichever session it drives; when another
 * connection takes that session over, this one ends. Events that arrive while a resume is being
 * decided wait, in order, and are bounded like the session's own inbound queue.
 */
import type { ClientEvent, ServerEvent } from '../core/events.js';
import type { SessionPort } from '../core/session-port.js';
import type { SessionEndCause } from '../core/session.js';
import { AsyncQueue } from '../lib/async-queue.js';

const EVENT_OVERHEAD_BYTES = 64;

/** What the link asks of the process's live sessions (./live-sessions.ts). */
export interface LinkOwner {
  readonly outboundQueueMaxBytes: number;
  readonly inboundQueueMaxMessages: number;
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
}

export class SessionLink implements SessionPort {
  readonly events: AsyncQueue<ServerEvent>;
  /** The session this connection drives (set by the owner). */
  session!: DrivenSession;
  private waiting: Array<(session: DrivenSession) => void> | null = null;
  private finished = false;
  private finishedBecause: string | undefined;
  private finishedCause: SessionEndCause | undefined;
  private readonly lifetime = new AbortController();

  constructor(
    private readonly owner: LinkOwner,
    /** The credential's principal (src/auth): only it may resume a session. */
    readonly principal: string,
  ) {
    this.events = new AsyncQueue<ServerEvent>({
      maxSize: owner.outboundQueueMaxBytes,
      sizeOf: (e) => (e.type === 'response_audio' ? e.data.byteLength + EVENT_OVERHEAD_BYTES : EVENT_OVERHEAD_BYTES),
      onReturn: () => this.close('the transport stopped reading events', 'client_gone'),
    });
  }

  handle(event: ClientEvent): void {
    this.drive((session) => {
      if (event.type === 'start' && event.resumeToken && !session.started && !this.waiting) {
        this.waiting = [];
        void this.owner.resume(this, event).finally(() => this.flushWaiting());
        return;
      }
      session.handle(event);
    });
  }

  rejectMessage(reason: string): void {
    this.drive((session) => session.rejectMessage(reason));
  }

  end(): void {
    if (!this.finished) this.owner.ended(this);
  }

  close(reason: string, cause: SessionEndCause = 'other'): void {
    if (!this.finished) this.owner.gone(this, reason, cause);
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
    this.events.end();
    this.lifetime.abort();
  }

  private drive(act: (session: DrivenSession) => void): void {
    if (this.finished) return;
    if (!this.waiting) return act(this.session);
    if (this.waiting.length >= this.owner.inboundQueueMaxMessages) {
      this.deliver({ type: 'error', code: 'resource_exhausted', message: `more than ${this.owner.inboundQueueMaxMessages} client messages came while the session was being resumed`, sessionContinues: false });
      this.close('too many messages while resuming', 'client_flood');
      return;
    }
    this.waiting.push(act);
  }

  /** The resume is decided: what came meanwhile goes to the session now driven, in order. */
  private flushWaiting(): void {
    const waiting = this.waiting ?? [];
    this.waiting = null;
    for (const act of waiting) if (!this.finished) act(this.session);
  }
}
