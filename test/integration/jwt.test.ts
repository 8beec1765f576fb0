/**
 * JWT admission end to end (hardening issue, finding 9), against a real gateway process: only
 * tokens for this gateway's audience, with an expiry and a holder, open sessions; every refusal
 * tells the client only that the token is not valid, and the log says why and from which address.
 * /metrics asks the same credential with METRICS_AUTH=gateway (finding 10). Without JWT_AUDIENCE
 * the gateway does not start in jwt mode.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import type * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { openConverse } from '../support/grpc-call.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { refusedUpgrade } from '../support/raw-realtime.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';

const AUDIENCE = 'voice-gateway';
let llm: ScriptedServer;
let gateway: GatewayProcess;
let keyFile: string;
let privateKey: CryptoKey;

before(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  keyFile = join(await mkdtemp(join(tmpdir(), 'jwt-gw-')), 'key.pem');
  await writeFile(keyFile, await exportSPKI(pair.publicKey));
  llm = await startScriptedOpenAiServer({ reply: 'ok' });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    AUTH_MODE: 'jwt',
    JWT_PUBLIC_KEY_FILE: keyFile,
    JWT_ALGORITHM: 'ES256',
    JWT_AUDIENCE: AUDIENCE,
    METRICS_AUTH: 'gateway',
  });
});

after(async () => {
  await gateway.stop();
  await llm.close();
});

function token(claims: { sub?: string; aud?: string; exp?: string | null }): Promise<string> {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuedAt();
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub);
  if (claims.aud !== undefined) jwt = jwt.setAudience(claims.aud);
  if (claims.exp !== null) jwt = jwt.setExpirationTime(claims.exp ?? '5m');
  return jwt.sign(privateKey);
}

async function open(bearer: string) {
  const c = openConverse(gateway.grpcAddress, { metadata: { authorization: `Bearer ${bearer}` } });
  const outcome = await new Promise<{ ready: true } | { status: grpc.StatusObject }>((resolve) => {
    c.call.on('data', (e: pb.ConverseResponse) => e.event.case === 'ready' && resolve({ ready: true }));
    void c.status.then((status) => resolve({ status }));
    c.send({ case: 'start', value: {} });
  });
  c.close();
  return outcome;
}

type LogLine = { msg: string; client?: string; transport?: string };

/** Waits (bounded) for a JSON log line that `match` accepts. */
async function logLine(match: (line: LogLine) => boolean): Promise<LogLine> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = gateway.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
    const found = lines.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such log line in:\n${gateway.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

void describe('JWT admission', { timeout: 120_000 }, () => {
  void it('a token for this audience, with exp and sub, opens a session', async () => {
    assert.deepEqual(await open(await token({ sub: 'alice', aud: AUDIENCE })), { ready: true });
  });

  const refusals: Array<[string, { sub?: string; aud?: string; exp?: string | null }, RegExp]> = [
    ['without exp', { sub: 'bob', aud: AUDIENCE, exp: null }, /"exp" claim/],
    ['for another service', { sub: 'bob', aud: 'billing' }, /"aud" claim/],
    ['without an audience', { sub: 'bob' }, /"aud" claim/],
    ['without sub', { aud: AUDIENCE }, /"sub" claim/],
    ['living a month', { sub: 'bob', aud: AUDIENCE, exp: '30d' }, /JWT_MAX_LIFETIME_S/],
  ];
  for (const [name, claims, reason] of refusals) {
    void it(`a token ${name} is refused as "not valid"; the log says why and from where`, async () => {
      const outcome = await open(await token(claims));
      assert.ok('status' in outcome);
      assert.equal(outcome.status.code, grpc.status.UNAUTHENTICATED);
      assert.equal(outcome.status.details, 'the token is not valid');
      const line = await logLine((l) => reason.test(l.msg) && l.transport === 'grpc');
      assert.match(line.msg, /^the token is not valid: /);
      assert.match(line.client ?? '', /127\.0\.0\.1/);
    });
  }

  void it('the Realtime endpoint refuses the same way (401, "not valid")', async () => {
    const refused = await refusedUpgrade(`ws://127.0.0.1:${gateway.httpPort}/v1/realtime`, { Authorization: `Bearer ${await token({ aud: AUDIENCE })}` });
    assert.equal(refused.status, 401);
    assert.match(refused.body, /"message":"the token is not valid"/);
    const line = await logLine((l) => /"sub" claim/.test(l.msg) && l.transport === 'realtime');
    assert.equal(line.client, '127.0.0.1');
  });
});

void describe('METRICS_AUTH=gateway', { timeout: 60_000 }, () => {
  void it('/metrics needs the credential sessions need', async () => {
    const url = `http://127.0.0.1:${gateway.httpPort}/metrics`;
    const without = await fetch(url);
    assert.equal(without.status, 401);
    const badToken = await fetch(url, { headers: { authorization: `Bearer ${await token({ sub: 'ops', aud: 'other' })}` } });
    assert.equal(badToken.status, 401);
    const withToken = await fetch(url, { headers: { authorization: `Bearer ${await token({ sub: 'prometheus', aud: AUDIENCE })}` } });
    assert.equal(withToken.status, 200);
    assert.match(await withToken.text(), /voice_gateway_sessions_active/);
    assert.equal((await fetch(`http://127.0.0.1:${gateway.httpPort}/healthz`)).status, 200, 'health stays open for probes');
  });
});

void describe('starting in jwt mode', { timeout: 60_000 }, () => {
  void it('without JWT_AUDIENCE is refused with exit code 2 and the reason', async () => {
    await assert.rejects(
      startGatewayProcess(['src/cli/entry.ts', 'serve'], { AUTH_MODE: 'jwt', JWT_PUBLIC_KEY_FILE: keyFile, JWT_ALGORITHM: 'ES256' }),
      (error: Error) => /exited with 2/.test(error.message) && /AUTH_MODE=jwt needs JWT_AUDIENCE/.test(error.message),
    );
  });
});
