/**
 * Where session state waits for a resume: in this process (memory) or in Redis, shared by every
 * replica. The state is the core's snapshot (text and ids, never audio) as an opaque string.
 *
 * A record also says who holds the session and since when it is gone, so that a claim can decide
 * alone, atomically: the session's generation rises at every claim, and a save from a holder whose
 * generation is behind is refused (a replica that lost its client cannot overwrite the replica
 * that took it over). Both stores decide with the rules of `claimProblem` (Redis in Lua).
 */

export interface StoreTiming {
  /** A session whose connection is gone can be claimed for this long (RESUME_WINDOW_MS). */
  windowMs: number;
  /** A live session is marked live for this long at each save or heartbeat. */
  leaseMs: number;
}

export interface SessionRecord {
  /** hashSubject of the credential that opened the session. */
  subject: string;
  generation: number;
  snapshot: string;
  /** The process that holds the session (or held it last). */
  owner: string;
  /** When its connection went away (ms since the epoch); 0 while connected. */
  detachedAt: number;
  /** Until when it counts as live without a new heartbeat (ms since the epoch). */
  liveUntil: number;
}

export interface SaveRequest {
  sessionId: string;
  subject: string;
  /** The generation the saver holds: the save is refused if the session has moved on. */
  generation: number;
  snapshot: string;
  owner: string;
  /** The session's connection is gone: from now on the window runs. */
  detached: boolean;
}

export interface ClaimRequest {
  sessionId: string;
  subject: string;
  /** The generation the token was issued at. */
  generation: number;
  /** The claiming process. */
  owner: string;
}

export interface RenewResult {
  superseded: string[];
  missing: string[];
}

export type ClaimProblem = 'missing' | 'expired' | 'other_subject' | 'used';

export type ClaimResult =
  | {
      ok: true;
      snapshot: string;
      /** The session's new generation: the new holder's, and its next token's. */
      generation: number;
      /** The process that held it, and whether it still counted as live there. */
      previousOwner: string;
      wasLive: boolean;
    }
  | { ok: false; problem: ClaimProblem };

export interface SessionStore {
  readonly kind: 'memory' | 'redis';
  /** 'superseded': another holder claimed the session since; this holder must let it go. */
  save(request: SaveRequest): Promise<'saved' | 'superseded'>;
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Marks these live sessions live for another lease (their generations fence it). Says which were
   * taken over by another holder, and which the store no longer has (a restarted Redis).
   */
  renew(sessions: ReadonlyArray<{ sessionId: string; generation: number }>): Promise<RenewResult>;
  /** The session ended for good: its token resumes nothing any more. */
  remove(sessionId: string, generation: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The rules of a claim, null when it may proceed: a token of another subject, a session past its
 * window, and an older token while the session is live (a second live session would result) are
 * refused. The current token takes the session over even while it counts as live: that is the
 * client itself, back before its old connection was noticed dead.
 */
export function claimProblem(record: SessionRecord | undefined, request: ClaimRequest, nowMs: number, windowMs: number): ClaimProblem | null {
  if (!record) return 'missing';
  if (record.subject !== request.subject) return 'other_subject';
  const live = record.detachedAt === 0 && record.liveUntil > nowMs;
  const goneSinceMs = record.detachedAt || record.liveUntil;
  if (!live && nowMs - goneSinceMs > windowMs) return 'expired';
  if (request.generation > record.generation || (request.generation < record.generation && live)) return 'used';
  return null;
}

/** How long a record is kept: a live one for its lease plus the window, a detached one for the window. */
export function recordTtlMs(detached: boolean, timing: StoreTiming): number {
  return detached ? timing.windowMs : timing.leaseMs + timing.windowMs;
}
