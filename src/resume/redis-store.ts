/**
 * The session store in Redis (SESSION_STORE=redis), shared by every replica: a reconnect that
 * lands on another pod finds the session there. One hash per session; every decision that reads
 * and writes is one Lua script (atomic on the server), with the rules of `claimProblem`. Scripts
 * touch one key each, so a Redis Cluster serves them too.
 *
 * Calls never wait long: `commandTimeout` bounds every call, and a call made while Redis is
 * unreachable waits only for the next reconnect attempt (at most 2 s apart; maxRetriesPerRequest 0
 * fails what is queued at each failed attempt). The caller (store-guard.ts) bounds it again and
 * treats a failure as "no resume".
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions, type Result } from 'ioredis';
import { recordTtlMs, type RenewResult, type ClaimProblem, type ClaimRequest, type ClaimResult, type SaveRequest, type SessionStore, type StoreTiming } from './session-store.js';

/** Writes the record unless another holder took the session (its generation differs). */
const SAVE = `
local gen = redis.call('HGET', KEYS[1], 'gen')
if gen and gen ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'gen', ARGV[2], 'snap', ARGV[3], 'owner', ARGV[4], 'detachedAt', ARGV[5], 'liveUntil', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1`;

/** claimProblem (session-store.ts) in Lua; on success the generation rises and the claimer holds it. */
const CLAIM = `
local r = redis.call('HMGET', KEYS[1], 'sub', 'gen', 'snap', 'owner', 'detachedAt', 'liveUntil')
if not r[2] then return {'missing'} end
if r[1] ~= ARGV[1] then return {'other_subject'} end
local gen = tonumber(r[2])
local tokenGen = tonumber(ARGV[2])
local now = tonumber(ARGV[4])
local detachedAt = tonumber(r[5]) or 0
local liveUntil = tonumber(r[6]) or 0
local live = detachedAt == 0 and liveUntil > now
local goneSince = detachedAt
if goneSince == 0 then goneSince = liveUntil end
if (not live) and now - goneSince > tonumber(ARGV[5]) then return {'expired'} end
if tokenGen > gen or (tokenGen < gen and live) then return {'used'} end
local newGen = tostring(gen + 1)
redis.call('HSET', KEYS[1], 'gen', newGen, 'owner', ARGV[3], 'detachedAt', '0', 'liveUntil', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
local wasLive = '0'
if live then wasLive = '1' end
return {'ok', r[3], newGen, r[4], wasLive}`;

/** 1: renewed; 0: another holder has it (or it was detached); -1: the record is gone. */
const RENEW = `
local r = redis.call('HMGET', KEYS[1], 'gen', 'detachedAt')
if not r[1] then return -1 end
if r[1] ~= ARGV[1] or r[2] ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'liveUntil', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

const REMOVE = `
if redis.call('HGET', KEYS[1], 'gen') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    vgSave(key: string, ...args: string[]): Result<number, Context>;
    vgClaim(key: string, ...args: string[]): Result<string[], Context>;
    vgRenew(key: string, ...args: string[]): Result<number, Context>;
    vgRemove(key: string, ...args: string[]): Result<number, Context>;
  }
}

export interface RedisStoreOptions {
  /** redis:// or rediss:// (TLS). */
  url: string;
  /** AUTH password when the URL has none. */
  password?: string;
  /** PEM CA file for rediss:// with a private CA. */
  caFile?: string;
  keyPrefix: string;
  /** Bound on every call (SESSION_STORE_TIMEOUT_MS). */
  timeoutMs: number;
  timing: StoreTiming;
  /** The connection went down or came back (for the warning and the metric). */
  onConnection?: (up: boolean, error?: Error) => void;
}

const RECONNECT_MAX_DELAY_MS = 2000;

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private readonly timing: StoreTiming;
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    this.timing = options.timing;
    this.prefix = `${options.keyPrefix}session:`;
    const tls = options.url.startsWith('rediss:') ? { tls: options.caFile ? { ca: readFileSync(options.caFile) } : {} } : {};
    const redisOptions: RedisOptions = {
      ...tls,
      ...(options.password ? { password: options.password } : {}),
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1000),
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS),
    };
    this.redis = new Redis(options.url, redisOptions);
    this.redis.on('ready', () => options.onConnection?.(true));
    // ioredis reports every failed reconnect as an error: they are expected while Redis is down.
    this.redis.on('error', (error: Error) => options.onConnection?.(false, error));
    this.redis.on('end', () => options.onConnection?.(false));
    this.redis.defineCommand('vgSave', { numberOfKeys: 1, lua: SAVE });
    this.redis.defineCommand('vgClaim', { numberOfKeys: 1, lua: CLAIM });
    this.redis.defineCommand('vgRenew', { numberOfKeys: 1, lua: RENEW });
    this.redis.defineCommand('vgRemove', { numberOfKeys: 1, lua: REMOVE });
  }

  async save(request: SaveRequest): Promise<'saved' | 'superseded'> {
    const now = Date.now();
    const saved = await this.redis.vgSave(
      this.key(request.sessionId),
      request.subject,
      String(request.generation),
      request.snapshot,
      request.owner,
      String(request.detached ? now : 0),
      String(request.detached ? 0 : now + this.timing.leaseMs),
      String(recordTtlMs(request.detached, this.timing)),
    );
    return saved === 1 ? 'saved' : 'superseded';
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const now = Date.now();
    const [outcome, snapshot, generation, previousOwner, wasLive] = await this.redis.vgClaim(
      this.key(request.sessionId),
      request.subject,
      String(request.generation),
      request.owner,
      String(now),
      String(this.timing.windowMs),
      String(now + this.timing.leaseMs),
      String(recordTtlMs(false, this.timing)),
    );
    if (outcome !== 'ok') return { ok: false, problem: outcome as ClaimProblem };
    return { ok: true, snapshot: snapshot!, generation: Number(generation), previousOwner: previousOwner ?? '', wasLive: wasLive === '1' };
  }

  async renew(sessions: ReadonlyArray<{ sessionId: string; generation: number }>): Promise<RenewResult> {
    const result: RenewResult = { superseded: [], missing: [] };
    if (sessions.length === 0) return result;
    const liveUntil = String(Date.now() + this.timing.leaseMs);
    const ttl = String(recordTtlMs(false, this.timing));
    const pipeline = this.redis.pipeline();
    for (const { sessionId, generation } of sessions) pipeline.vgRenew(this.key(sessionId), String(generation), liveUntil, ttl);
    const results = (await pipeline.exec()) ?? [];
    results.forEach(([error, renewed], i) => {
      if (error) throw error;
      if (renewed === 0) result.superseded.push(sessions[i]!.sessionId);
      if (renewed === -1) result.missing.push(sessions[i]!.sessionId);
    });
    return result;
  }

  async remove(sessionId: string, generation: number): Promise<void> {
    await this.redis.vgRemove(this.key(sessionId), String(generation));
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private key(sessionId: string): string {
    return `${this.prefix}${sessionId}`;
  }
}
