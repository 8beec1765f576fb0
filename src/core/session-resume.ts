/**
 * The resume side of a session, which src/resume drives: the session as data and back
 * (./session-snapshot.ts), and a client connection that goes away and comes back.
 *
 * While no client is connected the session keeps running (a reply goes on being produced) but
 * nothing counts as played and no idle time runs; a client that comes back to the same process
 * gets `ready` (resumed) and hears the reply go on from where it stopped (nothing is recomputed).
 * A session restored from a snapshot saved elsewhere starts from the saved conversation instead
 * of a `start`; the reply that was in progress there cannot be produced here and ends cut at what
 * was played. On drain the session is handed over: a reply in progress ends where the client
 * stopped hearing it, and client events no longer change what will be saved.
 */
import type { ServerEvent } from './events.js';
import type { SessionObserver } from './session-config.js';
import type { SessionDeadlines } from './session-deadlines.js';
import { runInSessionScope, type SessionScope } from './session-scope.js';
import { CHECKPOINT_EVENTS, endCutOff, readSnapshot, restoreParts, snapshotOf, type PlayedPosition, type SessionSnapshot, type SnapshotParts } from './session-snapshot.js';

/** What the resume side needs of its session. */
export interface ResumeHost {
  /** The session's parts as they are now. */
  parts(): SnapshotParts;
  /** The saved settings and opening time, in place of those of a `start`. */
  adopt(saved: Pick<SessionSnapshot, 'settings' | 'itemEvents' | 'openedAtMs'>): void;
  /** Listening, the duration bound and `ready` (resumed), as `start` would. */
  begin(): void;
  send(event: ServerEvent): void;
  background(work: Promise<unknown>): void;
  /** Work done here runs in the session's scope (./session-scope.ts): timers it makes are the session's. */
  scope: SessionScope;
  /** The idle clock stops while no client is connected. */
  deadlines: Pick<SessionDeadlines, 'pauseIdle'>;
  /** Told of each checkpoint (src/resume saves the session then). */
  observer: Pick<SessionObserver, 'onCheckpoint'>;
}

export class SessionResume {
  /** No client is connected: a resume may follow. */
  detached = false;
  /** Handed over for a resume elsewhere: client events no longer change the session. */
  handedOver = false;

  constructor(private readonly host: ResumeHost) {}

  /** No reply in progress and no user turn being spoken: a hand-over now cuts nothing. */
  get quiet(): boolean {
    const { replies, listening } = this.host.parts();
    return !replies.active && !listening?.turnInProgress;
  }

  /** The state worth saving changed. */
  changed(): void {
    this.host.observer.onCheckpoint?.();
  }

  /** The session sent `event`: a checkpoint if it changed what a snapshot holds, once the part that sent it finished its change. */
  sent(event: ServerEvent): void {
    if (CHECKPOINT_EVENTS.has(event.type)) queueMicrotask(() => this.changed());
  }

  /** Its state as JSON-able data: text and ids, never audio. */
  snapshot(): SessionSnapshot {
    return snapshotOf(this.host.parts());
  }

  /**
   * In place of `start`: the conversation of a snapshot saved elsewhere (`data`, checked here),
   * then `ready` (resumed) and the end of what was cut off (a reply, a turn being spoken).
   */
  restore(data: unknown, played: PlayedPosition | undefined): void {
    const parts = this.host.parts();
    const snapshot = readSnapshot(data, parts.id);
    this.run(() => {
      this.host.adopt(snapshot);
      restoreParts(parts, snapshot);
      this.host.begin();
      endCutOff(parts, snapshot, played);
      this.changed();
    });
  }

  /** The client is gone for now: nothing counts as played, and no idle time runs, until it is back. */
  detach(): void {
    this.detached = true;
    this.host.deadlines.pauseIdle(true);
    this.host.parts().replies.pause();
  }

  /** The client is back (same process): `ready` again, the reply goes on from `played`, a spoken turn ends. */
  reattach(played: PlayedPosition | undefined): void {
    const { id, settings, replies, listening } = this.host.parts();
    this.run(() => {
      this.detached = false;
      this.host.deadlines.pauseIdle(false);
      this.host.send({ type: 'ready', sessionId: id, settings, resumed: true });
      replies.resumeFrom(played);
      if (listening?.turnInProgress) this.host.background(listening.finishTurn());
    });
  }

  /** Drain: a reply in progress ends where the client stopped hearing it; the rest waits in the snapshot. */
  handOver(): void {
    this.handedOver = true;
    this.run(() => this.host.parts().replies.interruptByClient());
  }

  private run(work: () => void): void {
    runInSessionScope(this.host.scope, work);
  }
}
