/**
 * Redis stopped mid-conversation: the session goes on (its next turns are answered), the gateway
 * warns once and counts the failures on /metrics, a resume while Redis is down opens a new
 * session and says why, and once Redis is back sessions are saved (and resumable) again.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { openConverse } from '../support/grpc-call.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { startTcpProxy, type TcpProxy } from '../../src/bench/network-link.js';
import { waitUntil } from '../support/wait-until.js';
import { ask, converse, FIRST_REPLY, MS_PER_CHAR, scriptedReply, SYSTEM_PROMPT } from './support.js';

let redis: RedisServer;
let llm: ScriptedServer;
let gateway: GatewayProcess;
let network: TcpProxy;

before(async () => {
  redis = await startRedisServer();
  llm = await startScriptedOpenAiServer({ reply: scriptedReply });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    LLM_SYSTEM_PROMPT: SYSTEM_PROMPT,
    SCRIPTED_TTS_MS_PER_CHAR: String(MS_PER_CHAR),
    SESSION_STORE: 'redis',
    REDIS_URL: redis.url,
    RESUME_SECRET: 'redis-outage-test-secret-0123456789abcdef',
    SESSION_STORE_TIMEOUT_MS: '300',
    SESSION_STORE_HEARTBEAT_MS: '500',
    LOG_LEVEL: 'info',
  });
  network = await startTcpProxy(gateway.grpcAddress);
});
after(async () => {
  await network?.close();
  await gateway?.stop();
  await llm?.close();
  await redis?.stop();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

void it('with Redis stopped the conversation goes on, with a warning and a metric; a resume then starts anew and says why', async () => {
  const talk = converse(`127.0.0.1:${network.port}`);
  const first = await ask(talk, 'first question');
  await waitUntil(() => talk.done(first) !== undefined, 'the first reply', 30_000);
  const token = talk.conversation.resumeToken;

  await redis.stop();
  const requestsBefore = llm.requests.length;
  const second = await ask(talk, 'second question');
  assert.ok(second, 'the next turn is answered');
  await waitUntil(() => llm.requests.length > requestsBefore, 'the LLM request', 30_000);
  assert.deepEqual(
    llm.requests.at(-1)!.messages.map((m) => m.content),
    [SYSTEM_PROMPT, 'first question', FIRST_REPLY, 'second question'],
    'with its history',
  );
  talk.conversation.interrupt();
  await waitUntil(() => gateway.output().includes('sessions go on without resume'), 'the warning', 30_000);
  assert.equal(gateway.output().split('sessions go on without resume').length - 1, 1, 'one warning for the outage, not one per call');
  assert.ok((await metric('voice_gateway_session_store_errors_total')) > 0);
  assert.equal(await metric('voice_gateway_session_store_up'), 0);
  assert.deepEqual(talk.conversation.errors, [], 'the client saw no error: no turn failed');

  // A resume needs the store: while it is down, the client gets a new session and is told so.
  const other = openConverse(gateway.grpcAddress);
  other.send({ case: 'start', value: { resumeToken: token } });
  await waitUntil(() => other.events.some((e) => e.event.case === 'ready'), 'a session', 30_000);
  const notice = other.events.find((e) => e.event.case === 'error');
  assert.ok(notice?.event.case === 'error' && notice.event.value.code === pb.ErrorCode.UNAVAILABLE && notice.event.value.sessionContinues);
  assert.match(notice.event.value.message, /could not be resumed.*this is a new conversation/);
  const ready = other.events.find((e) => e.event.case === 'ready')!;
  assert.ok(ready.event.case === 'ready' && !ready.event.value.resumed);
  other.close();

  // Redis comes back (empty): the live session is written again and can be resumed.
  await redis.start();
  await waitUntil(() => gateway.output().includes('the session store answers again'), 'the store is back', 30_000);
  assert.equal(await metric('voice_gateway_session_store_up'), 1);
  network.cutAll();
  await waitUntil(() => talk.conversation.resumes.length === 1, 'a resume once Redis is back', 30_000);
  await talk.conversation.close();
});
