/**
 * Bad input and abuse of resume tokens, over real gRPC: a forged or altered token, one of another
 * credential, one already used while its session is live, and an expired one are each refused
 * with RESUME_REFUSED and a sentence that says why; nothing of the session is disclosed (no
 * `ready`, no history), the session itself is untouched, and no token ever reaches a log line.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { openConverse, type ConverseCall } from '../support/grpc-call.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { startTcpProxy, type TcpProxy } from '../../src/bench/network-link.js';
import { waitUntil } from '../support/wait-until.js';

const ALICE = 'alice-key-0123456789abcdef0123456789';
const BOB = 'bob-key-0123456789abcdef0123456789abc';
const sha = (key: string) => createHash('sha256').update(key).digest('hex');

let llm: ScriptedServer;
let gateway: GatewayProcess;
let shortWindow: GatewayProcess;
/** The network to each gateway: cutting it drops the connections through it, as a network does. */
const networks = new Map<string, TcpProxy>();
const tokensSeen: string[] = [];

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'ok' });
  const env = { LLM_BASE_URL: llm.baseUrl, AUTH_MODE: 'api_key', API_KEYS: `alice:${sha(ALICE)},bob:${sha(BOB)}`, LOG_LEVEL: 'debug' };
  [gateway, shortWindow] = await Promise.all([
    startGatewayProcess(['test/support/serve-scripted.ts'], env),
    startGatewayProcess(['test/support/serve-scripted.ts'], { ...env, RESUME_WINDOW_MS: '1000' }),
  ]);
});
after(async () => {
  for (const network of networks.values()) await network.close();
  await Promise.all([gateway?.stop(), shortWindow?.stop()]);
  await llm?.close();
});

function call(address: string, key: string): ConverseCall {
  return openConverse(address, { metadata: { authorization: `Bearer ${key}` } });
}

/** A session opened through a network that the test can cut. */
async function openedThroughNetwork(address: string): Promise<{ token: string; sessionId: string; cut: () => void }> {
  let network = networks.get(address);
  if (!network) networks.set(address, (network = await startTcpProxy(address)));
  const { c, token, sessionId } = await opened(`127.0.0.1:${network.port}`);
  return { token, sessionId, cut: () => {
    network.cutAll();
    c.client.close();
  } };
}

/** Opens a session (with a first exchange) and returns its call and the token of its ready. */
async function opened(address: string, key = ALICE): Promise<{ c: ConverseCall; token: string; sessionId: string }> {
  const c = call(address, key);
  c.send({ case: 'start', value: {} });
  c.send({ case: 'text', value: { text: 'remember the word pineapple' } });
  await waitUntil(() => c.events.some((e) => e.event.case === 'responseDone'), 'a first reply', 30_000);
  const ready = c.events.find((e) => e.event.case === 'ready')!;
  assert.ok(ready.event.case === 'ready');
  tokensSeen.push(ready.event.value.resumeToken);
  return { c, token: ready.event.value.resumeToken, sessionId: ready.event.value.sessionId };
}

/** Resumes with `token`; returns the call once it has ended or sent ready. */
async function resume(address: string, token: string, key = ALICE): Promise<ConverseCall> {
  const c = call(address, key);
  c.send({ case: 'start', value: { resumeToken: token } });
  await Promise.race([c.status, waitUntil(() => c.events.some((e) => e.event.case === 'ready'), 'ready', 30_000)]);
  return c;
}

async function refused(c: ConverseCall, why: RegExp): Promise<void> {
  const status = await c.status;
  assert.equal(status.code, grpc.status.FAILED_PRECONDITION);
  assert.match(status.details, why);
  assert.deepEqual(
    c.events.map((e) => e.event.case),
    ['error'],
    'nothing but the refusal: no ready, no history',
  );
  const error = c.events[0]!.event;
  assert.ok(error.case === 'error' && error.value.code === pb.ErrorCode.RESUME_REFUSED && !error.value.sessionContinues);
  assert.match(error.value.message, why);
  assert.doesNotMatch(error.value.message, /pineapple/);
  c.close();
}


void describe('resume tokens that are refused', () => {
  void it('a forged token: not signed by this gateway, or altered', async () => {
    await refused(await resume(gateway.grpcAddress, 'not-a-token'), /not valid: it was not signed by this gateway or it was altered/);
    const { c, token } = await opened(gateway.grpcAddress);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    claims.gen = 99;
    const altered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await refused(await resume(gateway.grpcAddress, altered), /not valid/);
    c.close();
  });

  void it("another credential's token is refused, and its owner can still resume", async () => {
    const { token, sessionId, cut } = await openedThroughNetwork(gateway.grpcAddress);
    cut();
    await refused(await resume(gateway.grpcAddress, token, BOB), /issued to another credential/);
    const back = await resume(gateway.grpcAddress, token, ALICE);
    const ready = back.events.find((e) => e.event.case === 'ready');
    assert.ok(ready?.event.case === 'ready' && ready.event.value.resumed && ready.event.value.sessionId === sessionId);
    tokensSeen.push(ready.event.value.resumeToken);
    back.close();
  });

  void it('a token already used while its session is live is refused: no second live session', async () => {
    const { token, cut } = await openedThroughNetwork(gateway.grpcAddress);
    cut();
    const resumed = await resume(gateway.grpcAddress, token);
    const ready = resumed.events.find((e) => e.event.case === 'ready');
    assert.ok(ready?.event.case === 'ready' && ready.event.value.resumed);
    const newer = ready.event.value.resumeToken;
    tokensSeen.push(newer);
    assert.notEqual(newer, token, 'each ready brings a new token');
    await refused(await resume(gateway.grpcAddress, token), /already used/);
    // The live session was not touched by the refusal: it still answers.
    resumed.send({ case: 'text', value: { text: 'are you still there' } });
    await waitUntil(() => resumed.events.filter((e) => e.event.case === 'responseDone').length >= 1, 'the live session answers', 30_000);
    resumed.close();
  });

  void it('an expired token: the window after the drop has passed', async () => {
    const { token, cut } = await openedThroughNetwork(shortWindow.grpcAddress);
    cut();
    await new Promise((r) => setTimeout(r, 1600)); // RESUME_WINDOW_MS is 1000 on this gateway
    await refused(await resume(shortWindow.grpcAddress, token), /can no longer be resumed.*RESUME_WINDOW_MS/);
  });

  void it('no token appears in the logs, even at debug level', () => {
    assert.ok(tokensSeen.length >= 4);
    const logs = gateway.output() + shortWindow.output();
    assert.ok(logs.includes('"outcome":"refused_'), 'the refusals were logged (by outcome)');
    for (const token of tokensSeen) {
      assert.equal(logs.includes(token), false, 'a token in the logs');
      assert.equal(logs.includes(token.split('.')[2]!), false, 'a token signature in the logs');
    }
  });
});
