/**
 * Resume tokens: what `ready` gives a client so that it can continue its session after a dropped
 * connection, on any replica. A token is a compact JWS (HS256, through `jose`) naming the session,
 * a hash of the credential's subject, and the session's generation (which rises at every resume,
 * so a token that was already used can be told from the current one).
 *
 * Keys rotate: RESUME_SECRET holds several secrets; the first signs, every one verifies, and the
 * token's `kid` says which signed it. A token says nothing a client does not know already: the
 * subject is hashed and the state stays on the server.
 */
import { createHash } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

const ISSUER = 'voice-gateway';
const AUDIENCE = 'voice-gateway/resume';
const ALGORITHM = 'HS256';

export interface ResumeClaims {
  sessionId: string;
  /** hashSubject(principal) of the credential that opened the session. */
  subject: string;
  /** The session's generation when the token was issued. */
  generation: number;
}

/** Why a token was refused before the store was asked (see resume-refusal.ts for the words). */
export type TokenProblem = 'forged' | 'expired' | 'other_subject';

export type TokenCheck = { ok: true; claims: ResumeClaims } | { ok: false; problem: TokenProblem };

interface SigningKey {
  kid: string;
  secret: Uint8Array;
}

/** A subject as it goes into tokens and the store: a hash, so key names and JWT subjects stay on the server. */
export function hashSubject(principal: string): string {
  return createHash('sha256').update(`resume-subject:${principal}`).digest('base64url').slice(0, 22);
}

export class ResumeTokens {
  private readonly keys: SigningKey[];

  /**
   * `secrets`: the first signs, all verify. `maxAgeMs`: no token is accepted past this age, however
   * its session is kept (the store's window after a disconnect is the tighter bound).
   */
  constructor(
    secrets: readonly string[],
    private readonly maxAgeMs: number,
  ) {
    if (secrets.length === 0) throw new Error('resume tokens need at least one secret');
    this.keys = secrets.map((text) => {
      const secret = new TextEncoder().encode(text);
      return { kid: createHash('sha256').update(secret).digest('base64url').slice(0, 8), secret };
    });
  }

  async issue(claims: ResumeClaims): Promise<string> {
    const key = this.keys[0]!;
    return new SignJWT({ sid: claims.sessionId, gen: claims.generation })
      .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'vg-resume+jwt' })
      .setSubject(claims.subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(new Date(Date.now() + this.maxAgeMs))
      .sign(key.secret);
  }

  /** Checks the signature, the age and that `principal` is the one the token was issued to. */
  async verify(token: string, principal: string): Promise<TokenCheck> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.keyFor(header.kid), { issuer: ISSUER, audience: AUDIENCE, algorithms: [ALGORITHM] }));
    } catch (error) {
      return { ok: false, problem: error instanceof errors.JWTExpired ? 'expired' : 'forged' };
    }
    const { sid, gen, sub } = payload;
    if (typeof sid !== 'string' || typeof sub !== 'string' || typeof gen !== 'number' || !Number.isSafeInteger(gen)) return { ok: false, problem: 'forged' };
    if (sub !== hashSubject(principal)) return { ok: false, problem: 'other_subject' };
    return { ok: true, claims: { sessionId: sid, subject: sub, generation: gen } };
  }

  private keyFor(kid: string | undefined): Uint8Array {
    const key = this.keys.find((k) => k.kid === kid);
    if (!key) throw new errors.JWSSignatureVerificationFailed('the token was signed with a key this gateway does not hold');
    return key.secret;
  }
}
