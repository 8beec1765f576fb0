/**
 * Who may open a session: the credential check (API key or JWT), then the limits: a process-wide
 * session cap, and per key (or token subject) a cap on concurrent sessions and on new sessions per
 * minute. Transports pass what the client presented; this answers with a principal or a refusal
 * that carries a stable code and, for limits, when to retry.
 *
 * A JWT must be meant for this gateway and short-lived: signed by the configured key, for
 * JWT_AUDIENCE (required: without it a token issued for any other service would do), with an
 * `exp` at most JWT_MAX_LIFETIME_S after its `iat` (or after now), and naming its holder in
 * JWT_PRINCIPAL_CLAIM (`sub`), so that limits are per holder. A refusal tells the client only that
 * the token is not valid; the reason goes to the log (`logReason`).
 */
import { createRemoteJWKSet, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { readFileSync } from 'node:fs';
import { matchApiKey, parseApiKeys, type ApiKeyEntry } from './api-keys.js';

export interface AdmissionSettings {
  mode: 'none' | 'api_key' | 'jwt';
  /** `name:sha256hex` entries (mode api_key). */
  apiKeys: string;
  jwtJwksUrl: string;
  /** PEM file of the public key (RS256/ES256/EdDSA) when no JWKS URL is used. */
  jwtPublicKeyFile: string;
  jwtIssuer: string;
  /** Required in mode jwt. */
  jwtAudience: string;
  /** Algorithm of the key in jwtPublicKeyFile, e.g. RS256, ES256, EdDSA. */
  jwtAlgorithm: string;
  /** Longest a token may live: exp - iat (or exp - now without iat), in seconds. */
  jwtMaxLifetimeS: number;
  /** The claim that names the token's holder (per-holder limits, logs). */
  jwtPrincipalClaim: string;
  maxSessions: number;
  perKeyMaxSessions: number;
  perKeyMaxNewSessionsPerMinute: number;
}

export type Admission =
  /**
   * release: the session ended (idempotent). park: its connection dropped and the session waits for
   * a resume (src/resume): the slot still counts for the process cap but no longer for the key's
   * concurrent cap (so the key can reconnect to resume it); a key keeps at most KEY_MAX_SESSIONS
   * such slots, and false means it has that many already (the session then ends).
   */
  | { ok: true; principal: string; release: () => void; park: () => boolean }
  /** message: for the client; logReason: what to log when it says more than the message. */
  | { ok: false; code: 'unauthenticated' | 'resource_exhausted'; message: string; logReason?: string; retryAfterS?: number };

const WINDOW_MS = 60_000;
/** What a client hears about any bad token: the reason goes to the log, not to whoever tries tokens. */
const TOKEN_NOT_VALID = 'the token is not valid';
const PRINCIPAL_MAX_CHARS = 256;

export class Admissions {
  private readonly apiKeys: ApiKeyEntry[];
  private readonly jwtKey: JWTVerifyGetKey | ReturnType<typeof importSPKI> | null;
  private active = 0;
  private readonly activeByPrincipal = new Map<string, number>();
  /** Of activeByPrincipal, the slots of sessions waiting for a resume (`park`). */
  private readonly parkedByPrincipal = new Map<string, number>();
  private readonly startsByPrincipal = new Map<string, number[]>();
  private lastPrunedAt = 0;

  constructor(
    private readonly settings: AdmissionSettings,
    /** The clock of the per-minute limit (tests pass their own). */
    private readonly now: () => number = Date.now,
  ) {
    this.apiKeys = settings.mode === 'api_key' ? parseApiKeys(settings.apiKeys) : [];
    if (settings.mode === 'api_key' && this.apiKeys.length === 0) throw new Error('AUTH_MODE=api_key needs API_KEYS (name:sha256hex entries; make one with: voice-gateway new-key NAME)');
    this.jwtKey = null;
    if (settings.mode === 'jwt') {
      if (!settings.jwtAudience) throw new Error('AUTH_MODE=jwt needs JWT_AUDIENCE: without it a token issued for any other service would be accepted');
      if (settings.jwtJwksUrl) this.jwtKey = createRemoteJWKSet(new URL(settings.jwtJwksUrl));
      else if (settings.jwtPublicKeyFile) this.jwtKey = importSPKI(readFileSync(settings.jwtPublicKeyFile, 'utf8'), settings.jwtAlgorithm);
      else throw new Error('AUTH_MODE=jwt needs JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE');
    }
  }

  /** Checks `credential` (the bearer token or API key the client sent) and the limits. */
  async admit(credential: string | undefined): Promise<Admission> {
    const who = await this.authenticate(credential);
    if ('message' in who) return { ok: false, code: 'unauthenticated', message: who.message, ...(who.logReason ? { logReason: who.logReason } : {}) };
    return this.reserve(who.principal);
  }

  /** Principals whose recent starts are remembered (for the per-minute limit). */
  get trackedPrincipals(): number {
    return this.startsByPrincipal.size;
  }

  /** Checks `credential` only, for calls that open no session: the refusal message, or null. */
  async verify(credential: string | undefined): Promise<string | null> {
    const who = await this.authenticate(credential);
    return 'message' in who ? who.message : null;
  }

  private async authenticate(credential: string | undefined): Promise<{ principal: string } | { message: string; logReason?: string }> {
    const { mode } = this.settings;
    if (mode === 'none') return { principal: 'anonymous' };
    if (!credential) return { message: `this gateway needs ${mode === 'jwt' ? 'a JWT' : 'an API key'}: send "authorization: Bearer <token>"` };
    if (mode === 'api_key') {
      const name = matchApiKey(this.apiKeys, credential);
      return name ? { principal: `key:${name}` } : { message: 'the API key is not valid' };
    }
    const why = await this.checkJwt(credential);
    return 'principal' in why ? why : { message: TOKEN_NOT_VALID, logReason: `the token is not valid: ${why.reason}` };
  }

  private async checkJwt(token: string): Promise<{ principal: string } | { reason: string }> {
    const { jwtIssuer, jwtAudience, jwtMaxLifetimeS, jwtPrincipalClaim } = this.settings;
    let payload: JWTPayload;
    try {
      const key = this.jwtKey!;
      const options = { issuer: jwtIssuer || undefined, audience: jwtAudience, requiredClaims: ['exp', jwtPrincipalClaim] };
      ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, await key, options));
    } catch (error) {
      return { reason: error instanceof Error ? error.message : String(error) };
    }
    const nowS = Math.floor(this.now() / 1000);
    const lifetimeS = payload.exp! - (typeof payload.iat === 'number' ? payload.iat : nowS);
    if (lifetimeS > jwtMaxLifetimeS) return { reason: `it lives ${lifetimeS} s (exp - iat), more than JWT_MAX_LIFETIME_S (${jwtMaxLifetimeS} s)` };
    const holder = payload[jwtPrincipalClaim];
    if (typeof holder !== 'string' || !holder || holder.length > PRINCIPAL_MAX_CHARS) {
      return { reason: `its "${jwtPrincipalClaim}" claim is not a string of 1 to ${PRINCIPAL_MAX_CHARS} characters (JWT_PRINCIPAL_CLAIM)` };
    }
    return { principal: `${jwtPrincipalClaim}:${holder}` };
  }

  private reserve(principal: string): Admission {
    const { maxSessions, perKeyMaxSessions, perKeyMaxNewSessionsPerMinute } = this.settings;
    if (maxSessions > 0 && this.active >= maxSessions) {
      return { ok: false, code: 'resource_exhausted', message: `the gateway is at its limit of ${maxSessions} sessions: retry in a few seconds or on another instance`, retryAfterS: 5 };
    }
    const mine = (this.activeByPrincipal.get(principal) ?? 0) - (this.parkedByPrincipal.get(principal) ?? 0);
    if (perKeyMaxSessions > 0 && mine >= perKeyMaxSessions) {
      return { ok: false, code: 'resource_exhausted', message: `this key already has ${mine} sessions, its limit: end one first`, retryAfterS: 5 };
    }
    const now = this.now();
    this.pruneStarts(now);
    if (perKeyMaxNewSessionsPerMinute > 0) {
      const starts = (this.startsByPrincipal.get(principal) ?? []).filter((t) => now - t < WINDOW_MS);
      if (starts.length >= perKeyMaxNewSessionsPerMinute) {
        const retryAfterS = Math.ceil((WINDOW_MS - (now - starts[0]!)) / 1000);
        return { ok: false, code: 'resource_exhausted', message: `this key started ${starts.length} sessions in the last minute, its limit: retry after ${retryAfterS} s`, retryAfterS };
      }
      starts.push(now);
      this.startsByPrincipal.set(principal, starts);
    }
    this.active++;
    addTo(this.activeByPrincipal, principal, 1);
    let released = false;
    let parked = false;
    return {
      ok: true,
      principal,
      release: () => {
        if (released) return;
        released = true;
        this.active--;
        addTo(this.activeByPrincipal, principal, -1);
        if (parked) addTo(this.parkedByPrincipal, principal, -1);
      },
      park: () => {
        if (released || parked) return !released;
        if (perKeyMaxSessions > 0 && (this.parkedByPrincipal.get(principal) ?? 0) >= perKeyMaxSessions) return false;
        parked = true;
        addTo(this.parkedByPrincipal, principal, 1);
        return true;
      },
    };
  }

  /** Forgets principals with no start in the last minute (at most once a minute): the map stays as large as the last minute's callers. */
  private pruneStarts(now: number): void {
    if (now - this.lastPrunedAt < WINDOW_MS) return;
    this.lastPrunedAt = now;
    for (const [principal, starts] of this.startsByPrincipal) {
      if (starts.every((t) => now - t >= WINDOW_MS)) this.startsByPrincipal.delete(principal);
    }
  }
}

/** Adds `delta` to the count of `key`, forgetting counts that reach 0. */
function addTo(counts: Map<string, number>, key: string, delta: number): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
