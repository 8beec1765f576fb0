/** Credentials and limits on the gRPC transport, against a real gateway process. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { hashApiKey } from '../../src/auth/api-keys.js';
import type * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { openConverse } from '../support/grpc-call.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';

const KEYS = { alice: 'alice-secret-key-1', bob: 'bob-secret-key-2' };

let llm: ScriptedServer;
let gateway: GatewayProcess;

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'ok' });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    AUTH_MODE: 'api_key',
    API_KEYS: `alice:${hashApiKey(KEYS.alice)},bob:${hashApiKey(KEYS.bob)}`,
    KEY_MAX_SESSIONS: '2',
    KEY_MAX_NEW_SESSIONS_PER_MINUTE: '4',
    MAX_SESSIONS: '3',
  });
});

after(async () => {
  await gateway.stop();
  await llm.close();
});

/** Opens a Converse call with `metadata` and resolves when it is ready or ended. */
async function open(metadata: Record<string, string>) {
  const c = openConverse(gateway.grpcAddress, { metadata });
  const outcome = await new Promise<{ ready: true } | { status: grpc.StatusObject }>((resolve) => {
    c.call.on('data', (e: pb.ConverseResponse) => e.event.case === 'ready' && resolve({ ready: true }));
    void c.status.then((status) => resolve({ status }));
    c.send({ case: 'start', value: {} });
  });
  return { outcome, close: c.close };
}

void describe('gRPC credentials and limits', () => {
  void it('no key, or a wrong key, is refused with UNAUTHENTICATED and a clear reason', async () => {
    const none = await open({});
    assert.ok('status' in none.outcome);
    assert.equal(none.outcome.status.code, grpc.status.UNAUTHENTICATED);
    assert.match(none.outcome.status.details, /needs an API key/);
    const wrong = await open({ authorization: 'Bearer nope' });
    assert.ok('status' in wrong.outcome && wrong.outcome.status.code === grpc.status.UNAUTHENTICATED);
    assert.ok(!gateway.output().includes('nope'), 'the presented key is never logged');
    none.close();
    wrong.close();
  });

  void it('a right key opens a session (authorization or x-api-key)', async () => {
    const a = await open({ authorization: `Bearer ${KEYS.alice}` });
    const b = await open({ 'x-api-key': KEYS.bob });
    assert.ok('ready' in a.outcome && 'ready' in b.outcome);
    a.close();
    b.close();
    assert.ok(!gateway.output().includes(KEYS.alice), 'keys are never logged');
  });

  void it('per-key and process limits answer RESOURCE_EXHAUSTED with a retry hint', async () => {
    await new Promise((r) => setTimeout(r, 300)); // the sessions above have closed
    const a1 = await open({ authorization: `Bearer ${KEYS.alice}` }); // alice: 2nd start this minute
    const a2 = await open({ authorization: `Bearer ${KEYS.alice}` }); // 3rd
    const a3 = await open({ authorization: `Bearer ${KEYS.alice}` }); // over 2 concurrent
    assert.ok('ready' in a1.outcome && 'ready' in a2.outcome);
    assert.ok('status' in a3.outcome);
    assert.equal(a3.outcome.status.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(a3.outcome.status.details, /already has 2 sessions/);
    assert.ok(a3.outcome.status.metadata.get('retry-after').length === 1, 'a retry hint in the trailers');
    const b1 = await open({ authorization: `Bearer ${KEYS.bob}` }); // 3 sessions in the process
    const b2 = await open({ authorization: `Bearer ${KEYS.bob}` }); // over MAX_SESSIONS=3
    assert.ok('ready' in b1.outcome);
    assert.ok('status' in b2.outcome && b2.outcome.status.code === grpc.status.RESOURCE_EXHAUSTED);
    assert.match('status' in b2.outcome ? b2.outcome.status.details : '', /limit of 3 sessions/);
    a1.close();
    a2.close();
    b1.close();
    await new Promise((r) => setTimeout(r, 300));
    const a4 = await open({ authorization: `Bearer ${KEYS.alice}` }); // 4th start this minute: allowed
    assert.ok('ready' in a4.outcome);
    a4.close();
    await new Promise((r) => setTimeout(r, 300));
    const a5 = await open({ authorization: `Bearer ${KEYS.alice}` }); // 5th: over 4 per minute
    assert.ok('status' in a5.outcome && a5.outcome.status.code === grpc.status.RESOURCE_EXHAUSTED);
    assert.match('status' in a5.outcome ? a5.outcome.status.details : '', /in the last minute/);
    a5.close();
  });
});
