/**
 * The session store of one process (SESSION_STORE=memory, the default): a network drop is resumed
 * on the same process; a restart loses the sessions. Records expire as they would in Redis.
 */
import { claimProblem, recordTtlMs, type RenewResult, type ClaimRequest, type ClaimResult, type SaveRequest, type SessionRecord, type SessionStore, type StoreTiming } from './session-store.js';

const SWEEP_EVERY_MS = 10_000;

export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory';
  private readonly records = new Map<string, { record: SessionRecord; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly timing: StoreTiming,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS).unref();
  }

  save(request: SaveRequest): Promise<'saved' | 'superseded'> {
    const current = this.get(request.sessionId);
    if (current && current.generation !== request.generation) return Promise.resolve('superseded');
    const now = this.now();
    const record: SessionRecord = {
      subject: request.subject,
      generation: request.generation,
      snapshot: request.snapshot,
      owner: request.owner,
      detachedAt: request.detached ? now : 0,
      liveUntil: request.detached ? 0 : now + this.timing.leaseMs,
    };
    this.records.set(request.sessionId, { record, expiresAt: now + recordTtlMs(request.detached, this.timing) });
    return Promise.resolve('saved');
  }

  claim(request: ClaimRequest): Promise<ClaimResult> {
    const record = this.get(request.sessionId);
    const now = this.now();
    const problem = claimProblem(record, request, now, this.timing.windowMs);
    if (problem || !record) return Promise.resolve({ ok: false, problem: problem ?? 'missing' });
    const wasLive = record.detachedAt === 0 && record.liveUntil > now;
    const previousOwner = record.owner;
    const claimed: SessionRecord = { ...record, generation: record.generation + 1, owner: request.owner, detachedAt: 0, liveUntil: now + this.timing.leaseMs };
    this.records.set(request.sessionId, { record: claimed, expiresAt: now + recordTtlMs(false, this.timing) });
    return Promise.resolve({ ok: true, snapshot: record.snapshot, generation: claimed.generation, previousOwner, wasLive });
  }

  renew(sessions: ReadonlyArray<{ sessionId: string; generation: number }>): Promise<RenewResult> {
    const now = this.now();
    const result: RenewResult = { superseded: [], missing: [] };
    for (const { sessionId, generation } of sessions) {
      const entry = this.get(sessionId) ? this.records.get(sessionId) : undefined;
      if (!entry) result.missing.push(sessionId);
      else if (entry.record.generation !== generation || entry.record.detachedAt !== 0) result.superseded.push(sessionId);
      else {
        entry.record.liveUntil = now + this.timing.leaseMs;
        entry.expiresAt = now + recordTtlMs(false, this.timing);
      }
    }
    return Promise.resolve(result);
  }

  remove(sessionId: string, generation: number): Promise<void> {
    if (this.get(sessionId)?.generation === generation) this.records.delete(sessionId);
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.records.clear();
    return Promise.resolve();
  }

  /** Records held now (tests, and a bound to watch). */
  get size(): number {
    this.sweep();
    return this.records.size;
  }

  private get(sessionId: string): SessionRecord | undefined {
    const entry = this.records.get(sessionId);
    if (entry && entry.expiresAt <= this.now()) {
      this.records.delete(sessionId);
      return undefined;
    }
    return entry?.record;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.records) if (entry.expiresAt <= now) this.records.delete(id);
  }
}
