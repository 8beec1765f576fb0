/**
 * Who may open a session: the credential check (API key or JWT), then the limits: a process-wide
 * session cap, and per key (or token subject) a cap on concurrent sessions and on new sessions per
 * minute. Transports pass what the client presented; this answers with a principal or a refusal
 * that carries a stable code and, for limits, when to retry.
 */
import { createRemoteJWKSet, importSPKI, jwtVerify, type JWTVerifyGetKey } from 'jose';
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
  jwtAudience: string;
  /** Algorithm of the key in jwtPublicKeyFile, e.g. RS256, ES256, EdDSA. */
  jwtAlgorithm: string;
  maxSessions: number;
  perKeyMaxSessions: number;
  perKeyMaxNewSessionsPerMinute: number;
}

export type Admission =
  | { ok: true; principal: string; release: () => void }
  | { ok: false; code: 'unauthenticated' | 'resource_exhausted'; message: string; retryAfterS?: number };

const WINDOW_MS = 60_000;

export class Admissions {
  private readonly apiKeys: ApiKeyEntry[];
  private readonly jwtKey: JWTVerifyGetKey | ReturnType<typeof importSPKI> | null;
  private active = 0;
  private readonly activeByPrincipal = new Map<string, number>();
  private readonly startsByPrincipal = new Map<string, number[]>();

  constructor(private readonly settings: AdmissionSettings) {
    this.apiKeys = settings.mode === 'api_key' ? parseApiKeys(settings.apiKeys) : [];
    if (settings.mode === 'api_key' && this.apiKeys.length === 0) throw new Error('AUTH_MODE=api_key needs API_KEYS (name:sha256hex entries; make one with: voice-gateway new-key NAME)');
    this.jwtKey = null;
    if (settings.mode === 'jwt') {
      if (settings.jwtJwksUrl) this.jwtKey = createRemoteJWKSet(new URL(settings.jwtJwksUrl));
      else if (settings.jwtPublicKeyFile) this.jwtKey = importSPKI(readFileSync(settings.jwtPublicKeyFile, 'utf8'), settings.jwtAlgorithm);
      else throw new Error('AUTH_MODE=jwt needs JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE');
    }
  }

  /** Checks `credential` (the bearer token or API key the client sent) and the limits. */
  async admit(credential: string | undefined): Promise<Admission> {
    const who = await this.authenticate(credential);
    if ('message' in who) return { ok: false, code: 'unauthenticated', message: who.message };
    return this.reserve(who.principal);
  }

  /** Admits `principal`, already proven by other means (a carrier's signature): only the limits apply. */
  admitVerified(principal: string): Admission {
    return this.reserve(principal);
  }

  /** Checks `credential` only, for calls that open no session: the refusal message, or null. */
  async verify(credential: string | undefined): Promise<string | null> {
    const who = await this.authenticate(credential);
    return 'message' in who ? who.message : null;
  }

  private async authenticate(credential: string | undefined): Promise<{ principal: string } | { message: string }> {
    const { mode } = this.settings;
    if (mode === 'none') return { principal: 'anonymous' };
    if (!credential) return { message: `this gateway needs ${mode === 'jwt' ? 'a JWT' : 'an API key'}: send "authorization: Bearer <token>"` };
    if (mode === 'api_key') {
      const name = matchApiKey(this.apiKeys, credential);
      return name ? { principal: `key:${name}` } : { message: 'the API key is not valid' };
    }
    try {
      const key = this.jwtKey!;
      const options = { issuer: this.settings.jwtIssuer || undefined, audience: this.settings.jwtAudience || undefined };
      const { payload } = typeof key === 'function' ? await jwtVerify(credential, key, options) : await jwtVerify(credential, await key, options);
      return { principal: `sub:${payload.sub ?? 'unknown'}` };
    } catch (error) {
      return { message: `the token is not valid: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  private reserve(principal: string): Admission {
    const { maxSessions, perKeyMaxSessions, perKeyMaxNewSessionsPerMinute } = this.settings;
    if (maxSessions > 0 && this.active >= maxSessions) {
      return { ok: false, code: 'resource_exhausted', message: `the gateway is at its limit of ${maxSessions} sessions: retry in a few seconds or on another instance`, retryAfterS: 5 };
    }
    const mine = this.activeByPrincipal.get(principal) ?? 0;
    if (perKeyMaxSessions > 0 && mine >= perKeyMaxSessions) {
      return { ok: false, code: 'resource_exhausted', message: `this key already has ${mine} sessions, its limit: end one first`, retryAfterS: 5 };
    }
    const now = Date.now();
    const starts = (this.startsByPrincipal.get(principal) ?? []).filter((t) => now - t < WINDOW_MS);
    if (perKeyMaxNewSessionsPerMinute > 0 && starts.length >= perKeyMaxNewSessionsPerMinute) {
      const retryAfterS = Math.ceil((WINDOW_MS - (now - starts[0]!)) / 1000);
      return { ok: false, code: 'resource_exhausted', message: `this key started ${starts.length} sessions in the last minute, its limit: retry after ${retryAfterS} s`, retryAfterS };
    }
    starts.push(now);
    this.startsByPrincipal.set(principal, starts);
    this.active++;
    this.activeByPrincipal.set(principal, mine + 1);
    let released = false;
    return {
      ok: true,
      principal,
      release: () => {
        if (released) return;
        released = true;
        this.active--;
        const left = (this.activeByPrincipal.get(principal) ?? 1) - 1;
        if (left > 0) this.activeByPrincipal.set(principal, left);
        else this.activeByPrincipal.delete(principal);
      },
    };
  }
}
