/**
 * The sessions of this process and the connections that drive them, with resume:
 *
 *  - every started session's state goes to the store at each checkpoint the core reports (turn
 *    end, reply start, each spoken piece, reply end), one write in flight per session, coalesced;
 *  - a connection that goes away leaves its session waiting, detached, for RESUME_WINDOW_MS; the
 *    session keeps the connection's admission slot meanwhile (parked: it counts for the process cap,
 *    not for the key's concurrent cap, so the key can reconnect; src/auth/admission.ts);
 *  - a `start` with a token is checked (signature, age, subject), claimed in the store (atomic:
 *    generation, window, "already used"), and then drives the session: the one held here (nothing
 *    is recomputed), or one restored from the store's snapshot (another replica held it);
 *  - live sessions are marked live every SESSION_STORE_HEARTBEAT_MS; one taken over elsewhere ends;
 *  - drain hands sessions over: state written, the client told to reconnect with its token.
 *
 * A store that fails costs resume only: the session goes on, the guard warns and counts.
 */
import type { ClientEvent, ErrorCode, ServerEvent } from '../core/events.js';
import type { SessionPort } from '../core/session-port.js';
import type { SessionEndCause, SessionObserver } from '../core/session-config.js';
import type { PlayedPosition, SessionSnapshot } from '../core/session-snapshot.js';
import { refusalMessage, refusalOutcome, type RefusalProblem, type ResumeOutcome } from './resume-refusal.js';
import { hashSubject, type ResumeTokens } from './resume-token.js';
import { SessionLink, type AdmissionSlot, type DrivenSession, type LinkOwner } from './session-link.js';
import type { GuardedStore } from './store-guard.js';

/** What this needs of a core session beyond what a transport uses. */
export interface ResumableSession extends SessionPort, DrivenSession {
  readonly id: string;
  /** The resume side of the session (core/session-resume.ts). */
  readonly resume: {
    /** No reply in progress and no user turn being spoken: a hand-over now cuts nothing. */
    readonly quiet: boolean;
    /** Its state, as JSON-able data (text and ids, never audio). */
    snapshot(): SessionSnapshot;
    /** In place of `start`: the state of `snapshot`, then `ready` (resumed) and what follows from it. */
    restore(snapshot: unknown, played: PlayedPosition | undefined): void;
    /** Its connection is gone: it waits, holding what a resume needs. */
    detach(): void;
    /** A connection drives it again: `ready` (resumed), and the reply goes on from `played`. */
    reattach(played: PlayedPosition | undefined): void;
    /** Drain: a reply in progress is cut at what was heard, so the snapshot is final. */
    handOver(): void;
  };
  /** The connection holds more than OUTBOUND_QUEUE_MAX_BYTES unread: the session ends. */
  clientTooSlow(): void;
  /** Ends the session with an error that tells the client why (and whether to reconnect). */
  goAway(message: string, code?: ErrorCode): void;
}

export interface LiveSessionsOptions {
  store: GuardedStore;
  tokens: ResumeTokens;
  windowMs: number;
  heartbeatMs: number;
  /** This process, as the store names holders. */
  owner: string;
  outboundQueueMaxBytes: number;
  inboundQueueMaxMessages: number;
  inboundQueueMaxBytes: number;
  /** A new core session (`id` given: a restored one keeps its id), observed through `hooks` too. */
  makeSession: (hooks: SessionObserver, id?: string) => ResumableSession;
  onResume?: (outcome: ResumeOutcome) => void;
}

class Held {
  session!: ResumableSession;
  link: SessionLink | null = null;
  generation = 1;
  token: Promise<string> | null = null;
  windowTimer: NodeJS.Timeout | undefined;
  writing: Promise<void> | null = null;
  dirty = false;
  /** Written for a resume elsewhere (drain): the record stays when the session ends. */
  handedOver = false;
  /** Another holder took it: nothing more is written. */
  superseded = false;
  /** The admission of the connection that left it waiting for a resume (released when it ends or is resumed). */
  parked: AdmissionSlot | null = null;
  constructor(readonly subject: string) {}
}

const DRAIN_POLL_MS = 50;

export class LiveSessions implements LinkOwner {
  readonly outboundQueueMaxBytes: number;
  readonly inboundQueueMaxMessages: number;
  readonly inboundQueueMaxBytes: number;
  private readonly held = new Map<string, Held>();
  private readonly links = new WeakMap<SessionLink, Held>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: LiveSessionsOptions) {
    this.outboundQueueMaxBytes = options.outboundQueueMaxBytes;
    this.inboundQueueMaxMessages = options.inboundQueueMaxMessages;
    this.inboundQueueMaxBytes = options.inboundQueueMaxBytes;
    this.heartbeat = setInterval(() => {
      this.renew().catch(() => undefined); // renew answers for its own failures
    }, options.heartbeatMs).unref();
  }

  /** Sessions open in this process (connected or waiting for a resume). */
  get size(): number {
    return this.held.size;
  }

  /**
   * A new connection, admitted (its principal and slot in the limits): it drives a new session
   * unless its `start` resumes one. A resume is a connection like any other: it was admitted the same way.
   */
  connect(admission: AdmissionSlot): SessionLink {
    const link = new SessionLink(this, admission);
    const held = this.open(hashSubject(admission.principal));
    this.attach(held, link);
    return link;
  }

  // --- LinkOwner -------------------------------------------------------------------------------

  async resume(link: SessionLink, start: Extract<ClientEvent, { type: 'start' }>): Promise<void> {
    const fresh = this.heldBy(link);
    const check = await this.options.tokens.verify(start.resumeToken ?? '', link.principal);
    if (!check.ok) return this.refuse(link, check.problem);
    const { sessionId, generation, subject } = check.claims;
    let claim;
    try {
      claim = await this.options.store.claim({ sessionId, subject, generation, owner: this.options.owner });
    } catch (error) {
      // No store, no resume: a new conversation, and the client is told so.
      this.options.onResume?.('store_unavailable');
      const why = error instanceof Error ? error.message : String(error);
      link.deliver({ type: 'error', code: 'unavailable', message: `the session could not be resumed (${why}): this is a new conversation`, sessionContinues: true });
      fresh?.session.handle({ type: 'start', settings: {}, metadata: start.metadata, itemEvents: start.itemEvents });
      return;
    }
    if (!claim.ok) return this.refuse(link, claim.problem);
    const local = this.held.get(sessionId);
    if (local && local.session.closeReason === undefined && claim.previousOwner === this.options.owner) {
      // Held here: the same session goes on, replies and recognizer streams included.
      this.drop(fresh);
      clearTimeout(local.windowTimer);
      this.setGeneration(local, claim.generation);
      const previous = local.link;
      this.attach(local, link);
      previous?.finish('the session was resumed on another connection', 'other');
      local.parked?.release(); // this connection's own admission counts for it now
      local.parked = null;
      local.session.resume.reattach(start.played);
      this.options.onResume?.('resumed');
      return;
    }
    local?.session.close('the session was resumed from the store', 'other');
    this.drop(fresh);
    const restored = this.open(subject, sessionId);
    this.setGeneration(restored, claim.generation);
    this.attach(restored, link);
    try {
      restored.session.resume.restore(JSON.parse(claim.snapshot) as unknown, start.played);
      this.options.onResume?.('restored');
    } catch (error) {
      restored.session.goAway(`the saved session could not be restored: ${error instanceof Error ? error.message : String(error)}`, 'internal');
    }
  }

  ended(link: SessionLink): void {
    const held = this.heldBy(link);
    if (held) held.session.end();
    else link.finish('client ended the session', 'client_ended');
  }

  gone(link: SessionLink, reason: string, cause: SessionEndCause): void {
    const held = this.heldBy(link);
    if (!held) return link.finish(reason, cause);
    const resumable = (cause === 'client_gone' || cause === 'transport_error') && held.session.started && held.session.closeReason === undefined && !held.superseded;
    if (!resumable) return held.session.close(reason, cause);
    // The session keeps the connection's admission while it waits; a key at its limit of waiting sessions cannot leave another.
    const slot = link.takeSlot();
    if (slot && !slot.park()) {
      slot.release();
      return held.session.close(`${reason}; it cannot wait for a resume: this key already has KEY_MAX_SESSIONS sessions waiting`, cause);
    }
    held.link = null;
    held.parked = slot;
    link.finish(reason, cause);
    held.session.resume.detach();
    this.checkpoint(held);
    held.windowTimer = setTimeout(
      () => held.session.close(`the client did not come back within ${this.options.windowMs / 1000} s (RESUME_WINDOW_MS)`, 'client_gone'),
      this.options.windowMs,
    );
  }

  // --- drain -----------------------------------------------------------------------------------

  /**
   * Hands every session over for a resume elsewhere: each at its next quiet moment, or when
   * `graceMs` ends (a reply in progress is then cut at what was heard). Its state is written,
   * then the client is told to reconnect with its token. Without a shared store nothing can be
   * handed over: sessions get the grace to finish, then are told to reconnect (a new conversation).
   */
  async drain(graceMs: number): Promise<void> {
    const shared = this.options.store.kind !== 'memory';
    const deadline = Date.now() + graceMs;
    const handing: Array<Promise<void>> = [];
    while (this.held.size > 0) {
      const late = Date.now() >= deadline;
      for (const held of [...this.held.values()]) {
        if (held.handedOver) continue;
        if (!held.session.started || held.session.closeReason !== undefined) {
          if (late) held.session.close('the gateway is shutting down', 'shutdown');
          continue;
        }
        if (!late && (!shared || !held.session.resume.quiet)) continue;
        held.handedOver = true;
        handing.push(shared && !held.superseded ? this.handOver(held) : Promise.resolve(held.session.goAway('the gateway is shutting down: reconnect to start a new conversation')));
      }
      if (late) break;
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    await Promise.all(handing);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const held of this.held.values()) held.session.close('the gateway is shutting down', 'shutdown');
    await this.options.store.store.close();
  }

  private async handOver(held: Held): Promise<void> {
    held.session.resume.handOver();
    clearTimeout(held.windowTimer);
    const saved = await this.write(held, true).then(
      () => !held.superseded,
      () => false,
    );
    const message = saved
      ? 'the gateway is shutting down and saved this session: reconnect and send start with the resume_token of the latest ready to continue'
      : 'the gateway is shutting down and could not save this session: reconnect to start a new conversation';
    held.session.goAway(message, saved ? 'reconnect_to_resume' : 'unavailable');
  }

  // --- sessions, links, events -------------------------------------------------------------------

  private open(subject: string, id?: string): Held {
    const held = new Held(subject);
    held.session = this.options.makeSession({ onCheckpoint: () => this.checkpoint(held), onClosed: () => this.closed(held) }, id);
    this.held.set(held.session.id, held);
    this.setGeneration(held, 1);
    this.forward(held).catch((error: unknown) => held.session.fail(error));
    return held;
  }

  private attach(held: Held, link: SessionLink): void {
    held.link = link;
    this.links.set(link, held);
    link.session = held.session;
  }

  /** The session `link` drives, while it drives one. */
  private heldBy(link: SessionLink): Held | undefined {
    const held = this.links.get(link);
    return held?.link === link ? held : undefined;
  }

  /** A session made for a connection that resumed another: it never started and says nothing. */
  private drop(held: Held | undefined): void {
    if (!held) return;
    held.link = null;
    held.session.close('the connection resumed another session', 'other');
  }

  private setGeneration(held: Held, generation: number): void {
    held.generation = generation;
    held.token = this.options.tokens.issue({ sessionId: held.session.id, subject: held.subject, generation });
    held.token.catch(() => undefined);
  }

  private refuse(link: SessionLink, problem: RefusalProblem): void {
    this.options.onResume?.(refusalOutcome(problem));
    const message = refusalMessage(problem, this.options.windowMs);
    this.drop(this.heldBy(link));
    link.deliver({ type: 'error', code: 'resume_refused', message, sessionContinues: false });
    link.finish(message, 'other');
  }

  /** The session's events go to the connection driving it; while none does, they are dropped. */
  private async forward(held: Held): Promise<void> {
    for await (const event of held.session.events) {
      const link = held.link;
      if (!link) continue;
      const sent: ServerEvent = event.type === 'ready' ? { ...event, resumeToken: (await held.token) ?? '', resumeWindowMs: this.options.windowMs } : event;
      if (!link.deliver(sent)) held.session.clientTooSlow();
    }
    held.link?.finish(held.session.closeReason, held.session.closeCause);
  }

  private closed(held: Held): void {
    clearTimeout(held.windowTimer);
    held.parked?.release();
    held.parked = null;
    if (this.held.get(held.session.id) === held) this.held.delete(held.session.id);
    // Ended for good: its token resumes nothing. A session handed over (or taken) stays in the store.
    if (held.session.started && !held.handedOver && !held.superseded) {
      this.options.store.remove(held.session.id, held.generation).catch(() => undefined);
    }
  }

  // --- writes ------------------------------------------------------------------------------------

  private checkpoint(held: Held): void {
    if (!held.session.started || held.superseded) return;
    if (held.writing) {
      held.dirty = true;
      return;
    }
    this.write(held, held.link === null).catch(() => undefined); // the guard warned and counted
  }

  /** Writes the latest state; a write in progress is waited for, then followed by a newer one. */
  private async write(held: Held, detached: boolean): Promise<void> {
    while (held.writing) await held.writing;
    const writing = (async () => {
      do {
        held.dirty = false;
        const { generation } = held;
        const snapshot = JSON.stringify(held.session.resume.snapshot());
        const saved = await this.options.store.save({ sessionId: held.session.id, subject: held.subject, generation, snapshot, owner: this.options.owner, detached: detached || held.link === null });
        // Refused because this process resumed it meanwhile (a newer generation): write again.
        if (saved === 'superseded' && held.generation !== generation) held.dirty = true;
        else if (saved === 'superseded') return this.supersede(held);
      } while (held.dirty);
    })();
    held.writing = writing.finally(() => (held.writing = null));
    return held.writing;
  }

  private supersede(held: Held): void {
    held.superseded = true;
    held.session.goAway('the session was resumed on another connection', 'failed_precondition');
  }

  private async renew(): Promise<void> {
    const live = [...this.held.values()].filter((h) => h.link && h.session.started && h.session.closeReason === undefined && !h.superseded && !h.writing);
    if (live.length === 0) return;
    const generations = new Map(live.map((h) => [h.session.id, h.generation]));
    try {
      const { superseded, missing } = await this.options.store.renew(live.map((h) => ({ sessionId: h.session.id, generation: h.generation })));
      for (const id of superseded) {
        const held = this.held.get(id);
        if (held && held.generation === generations.get(id) && held.link) this.supersede(held);
      }
      for (const id of missing) {
        const held = this.held.get(id);
        if (held) this.checkpoint(held); // the store lost it (restarted): write it again
      }
    } catch {
      // the guard warned and counted; the next heartbeat tries again
    }
  }
}
