import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { Admissions, type AdmissionSettings } from '../../src/auth/admission.js';
import { hashApiKey, newApiKey, parseApiKeys } from '../../src/auth/api-keys.js';

const base: AdmissionSettings = {
  mode: 'none', apiKeys: '', jwtJwksUrl: '', jwtPublicKeyFile: '', jwtIssuer: '', jwtAudience: '', jwtAlgorithm: 'RS256',
  jwtMaxLifetimeS: 3600, jwtPrincipalClaim: 'sub',
  maxSessions: 0, perKeyMaxSessions: 0, perKeyMaxNewSessionsPerMinute: 0,
};

void describe('API keys', () => {
  const alice = newApiKey('alice');
  const admissions = new Admissions({ ...base, mode: 'api_key', apiKeys: `${alice.line}\nbob:${hashApiKey('bobs-key')}` });

  void it('are stored as hashes only', () => {
    assert.ok(!alice.line.includes(alice.key));
    assert.match(alice.line, /^alice:[0-9a-f]{64}$/);
  });

  void it('a right key is admitted as its holder; a wrong or missing one is refused', async () => {
    assert.deepEqual(((await admissions.admit(alice.key)) as { principal: string }).principal, 'key:alice');
    assert.equal(((await admissions.admit('bobs-key')) as { principal: string }).principal, 'key:bob');
    const wrong = await admissions.admit('guess');
    assert.equal(wrong.ok, false);
    assert.equal(!wrong.ok && wrong.code, 'unauthenticated');
    const missing = await admissions.admit(undefined);
    assert.match(!missing.ok ? missing.message : '', /needs an API key: send "authorization: Bearer <token>"/);
  });

  void it('a malformed entry is a clear error', () => {
    assert.throws(() => parseApiKeys('alice:not-a-hash'), /is not "name:sha256hex"/);
  });
});

void describe('JWT', () => {
  void it('from a public key file: valid tokens pass; expired, foreign or wrong-audience ones do not', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const dir = await mkdtemp(join(tmpdir(), 'jwt-'));
    const file = join(dir, 'key.pem');
    await writeFile(file, await exportSPKI(publicKey));
    const admissions = new Admissions({ ...base, mode: 'jwt', jwtPublicKeyFile: file, jwtAudience: 'voice' });
    const sign = (key: Parameters<SignJWT['sign']>[0], claims: { aud?: string; exp?: string }) =>
      new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('user-1').setAudience(claims.aud ?? 'voice').setExpirationTime(claims.exp ?? '5m').sign(key);
    const ok = await admissions.admit(await sign(privateKey, {}));
    assert.equal(ok.ok && ok.principal, 'sub:user-1');
    for (const bad of [await sign(other.privateKey, {}), await sign(privateKey, { aud: 'other' }), await sign(privateKey, { exp: '-1m' }), 'not.a.jwt']) {
      const refused = await admissions.admit(bad);
      assert.equal(refused.ok, false);
      assert.match(!refused.ok ? refused.message : '', /the token is not valid/);
    }
  });

  void it('from a JWKS URL', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const admissions = new Admissions({ ...base, mode: 'jwt', jwtJwksUrl: url, jwtAudience: 'voice' });
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('svc').setAudience('voice').setExpirationTime('5m').sign(privateKey);
    const ok = await admissions.admit(token);
    assert.equal(ok.ok && ok.principal, 'sub:svc');
    server.close();
  });
});

void describe('JWT: only short-lived tokens meant for this gateway, each naming its holder', () => {
  const setup = async (settings: Partial<AdmissionSettings> = {}) => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const dir = await mkdtemp(join(tmpdir(), 'jwt-'));
    const file = join(dir, 'key.pem');
    await writeFile(file, await exportSPKI(publicKey));
    const admissions = new Admissions({ ...base, mode: 'jwt', jwtPublicKeyFile: file, jwtAudience: 'voice', ...settings });
    const token = (build: (jwt: SignJWT) => SignJWT) => build(new SignJWT({}).setProtectedHeader({ alg: 'RS256' })).sign(privateKey);
    return { admissions, token };
  };
  /** The refusal: the client hears only "not valid"; the reason is for the log. */
  const refused = async (admissions: Admissions, token: string) => {
    const answer = await admissions.admit(token);
    assert.equal(answer.ok, false);
    if (answer.ok) throw new Error('admitted');
    assert.equal(answer.message, 'the token is not valid');
    return answer.logReason ?? '';
  };

  void it('a token without exp is refused', async () => {
    const { admissions, token } = await setup();
    assert.match(await refused(admissions, await token((t) => t.setSubject('u').setAudience('voice'))), /"exp" claim/);
  });

  void it('a token that lives longer than JWT_MAX_LIFETIME_S is refused', async () => {
    const { admissions, token } = await setup({ jwtMaxLifetimeS: 3600 });
    assert.match(await refused(admissions, await token((t) => t.setSubject('u').setAudience('voice').setIssuedAt().setExpirationTime('2h'))), /more than JWT_MAX_LIFETIME_S/);
    assert.match(await refused(admissions, await token((t) => t.setSubject('u').setAudience('voice').setExpirationTime('30d'))), /more than JWT_MAX_LIFETIME_S/, 'without iat it counts from now');
    assert.ok((await admissions.admit(await token((t) => t.setSubject('u').setAudience('voice').setIssuedAt().setExpirationTime('1h')))).ok);
  });

  void it('a token for another audience, or none, is refused; jwt mode without JWT_AUDIENCE does not start', async () => {
    const { admissions, token } = await setup();
    assert.match(await refused(admissions, await token((t) => t.setSubject('u').setAudience('billing').setExpirationTime('5m'))), /"aud" claim/);
    assert.match(await refused(admissions, await token((t) => t.setSubject('u').setExpirationTime('5m'))), /"aud" claim/);
    await assert.rejects(setup({ jwtAudience: '' }), /AUTH_MODE=jwt needs JWT_AUDIENCE/);
  });

  void it('a token without sub is refused; JWT_PRINCIPAL_CLAIM names another claim', async () => {
    const { admissions, token } = await setup();
    assert.match(await refused(admissions, await token((t) => t.setAudience('voice').setExpirationTime('5m'))), /"sub" claim/);
    const other = await setup({ jwtPrincipalClaim: 'client_id' });
    const ok = await other.admissions.admit(await other.token(() => new SignJWT({ client_id: 'kiosk-7' }).setProtectedHeader({ alg: 'RS256' }).setAudience('voice').setExpirationTime('5m')));
    assert.equal(ok.ok && ok.principal, 'client_id:kiosk-7');
    assert.match(await refused(other.admissions, await other.token((t) => t.setSubject('u').setAudience('voice').setExpirationTime('5m'))), /"client_id" claim/);
  });
});

void describe('limits', () => {
  void it('per key: concurrent sessions, then new sessions per minute, with a retry hint', async () => {
    const admissions = new Admissions({ ...base, mode: 'api_key', apiKeys: `a:${hashApiKey('ka')}`, perKeyMaxSessions: 2, perKeyMaxNewSessionsPerMinute: 3 });
    const first = await admissions.admit('ka');
    const second = await admissions.admit('ka');
    const third = await admissions.admit('ka');
    assert.ok(first.ok && second.ok);
    assert.equal(!third.ok && third.code, 'resource_exhausted');
    assert.match(!third.ok ? third.message : '', /already has 2 sessions/);
    if (first.ok) first.release();
    const fourth = await admissions.admit('ka'); // a slot is free and it is the 3rd start this minute
    assert.ok(fourth.ok);
    if (second.ok) second.release();
    const fifth = await admissions.admit('ka');
    assert.equal(fifth.ok, false);
    assert.match(!fifth.ok ? fifth.message : '', /started 3 sessions in the last minute/);
    assert.ok(!fifth.ok && fifth.retryAfterS! > 0 && fifth.retryAfterS! <= 60);
  });

  void it('the process-wide cap counts everyone', async () => {
    const admissions = new Admissions({ ...base, maxSessions: 1 });
    const one = await admissions.admit(undefined);
    const two = await admissions.admit(undefined);
    assert.ok(one.ok);
    assert.match(!two.ok ? two.message : '', /limit of 1 sessions/);
    if (one.ok) one.release();
    if (one.ok) one.release(); // twice is harmless
    assert.ok((await admissions.admit(undefined)).ok);
  });
});

void describe('the per-key rate memory', () => {
  void it('forgets keys that started nothing in the last minute', async () => {
    let nowMs = 1_000_000;
    const admissions = new Admissions({ ...base, mode: 'api_key', apiKeys: Array.from({ length: 50 }, (_, i) => `k${i}:${hashApiKey(`key-${i}`)}`).join(','), perKeyMaxNewSessionsPerMinute: 10 }, () => nowMs);
    for (let i = 0; i < 50; i++) {
      const admitted = await admissions.admit(`key-${i}`);
      if (admitted.ok) admitted.release();
    }
    assert.equal(admissions.trackedPrincipals, 50);
    nowMs += 61_000;
    const again = await admissions.admit('key-0');
    assert.ok(again.ok);
    assert.equal(admissions.trackedPrincipals, 1, 'only the key that started a session in the last minute is kept');
  });
});
