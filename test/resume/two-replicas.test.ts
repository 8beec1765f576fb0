/**
 * Sessions that survive a replica: two gateway processes on loopback share one real Redis. A
 * conversation runs on A through the real client (`ask`/`talk`'s Conversation, given both
 * addresses); A dies mid-reply (SIGKILL), or drains (SIGTERM); the client resumes on B, and the
 * next LLM request B sends (to the scripted OpenAI-compatible server) carries the whole history,
 * the interrupted reply cut to what the client had played.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { startTcpProxy } from '../../src/bench/network-link.js';
import { waitUntil } from '../support/wait-until.js';
import { ask, converse, expectedCut, FIRST_REPLY, LONG_REPLY, MS_PER_CHAR, playedAtLeast, scriptedReply, SYSTEM_PROMPT } from './support.js';

const SECRET = 'two-replicas-test-secret-0123456789abcdef';
let redis: RedisServer;
let llm: ScriptedServer;

before(async () => {
  redis = await startRedisServer();
  llm = await startScriptedOpenAiServer({ reply: scriptedReply });
});
after(async () => {
  await llm?.close();
  await redis?.stop();
});

function replica(extra: Record<string, string> = {}): Promise<GatewayProcess> {
  return startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    LLM_SYSTEM_PROMPT: SYSTEM_PROMPT,
    SCRIPTED_TTS_MS_PER_CHAR: String(MS_PER_CHAR),
    SESSION_STORE: 'redis',
    REDIS_URL: redis.url,
    RESUME_SECRET: SECRET,
    RESUME_WINDOW_MS: '60000',
    ...extra,
  });
}

/** One conversation on A until the long reply has played `playedMs`; returns what the checks need. */
async function conversationCutOnA(a: GatewayProcess, b: GatewayProcess, playedMs: number) {
  const talk = converse(`${a.grpcAddress},${b.grpcAddress}`);
  const first = await ask(talk, 'first question');
  await waitUntil(() => talk.done(first) !== undefined, 'the first reply ends', 30_000);
  const long = await ask(talk, 'second question');
  await playedAtLeast(talk, long, playedMs);
  return { talk, long, sessionId: talk.conversation.sessionId };
}

/** After the resume, a third question: B's LLM request holds everything, the long reply cut. */
async function checkHistoryOnB(talk: ReturnType<typeof converse>, long: string, playedMs: number): Promise<void> {
  const requestsBefore = llm.requests.length;
  await ask(talk, 'third question');
  await waitUntil(() => llm.requests.length > requestsBefore, 'the LLM request', 30_000);
  const request = llm.requests[requestsBefore]!;
  const cut = expectedCut(talk.pieces(long), playedMs);
  assert.ok(cut.length > 0 && cut.length < LONG_REPLY.length, `a real cut: "${cut}"`);
  assert.deepEqual(request.messages, [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: FIRST_REPLY },
    { role: 'user', content: 'second question' },
    { role: 'assistant', content: cut },
    { role: 'user', content: 'third question' },
  ]);
  const done = talk.done(long);
  assert.equal(done?.status, pb.ResponseStatus.INTERRUPTED, 'the client is told the long reply ended there');
  assert.equal(done?.heardText, cut);
}

void describe('resume across two replicas sharing Redis', () => {
  void it('A is killed (SIGKILL) mid-reply: the client resumes on B, whose next LLM request has the history cut at what was played', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    try {
      const { talk, long, sessionId } = await conversationCutOnA(a, b, 1500);
      a.child.kill('SIGKILL');
      await waitUntil(() => talk.conversation.resumes.length === 1, 'the client resumes', 60_000);
      assert.equal(talk.conversation.resumes[0]!.server, b.grpcAddress);
      assert.equal(talk.conversation.sessionId, sessionId, 'the same session goes on');
      const ready = talk.events.filter((e) => e.event.case === 'ready').at(-1)!;
      assert.ok(ready.event.case === 'ready' && ready.event.value.resumed && ready.event.value.resumeToken !== '');
      const played = talk.conversation.playedAtLastDrop;
      assert.ok(played && played.responseId === long);
      await checkHistoryOnB(talk, long, played.playedMs);
      await talk.conversation.close();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  void it('A drains (SIGTERM): the reply in flight is cut where it was heard, the client is told to resume and does so on B', async () => {
    const [a, b] = await Promise.all([replica({ DRAIN_GRACE_MS: '200' }), replica()]);
    try {
      const { talk, long, sessionId } = await conversationCutOnA(a, b, 1500);
      a.child.kill('SIGTERM');
      const [code] = (await once(a.child, 'exit')) as [number | null];
      assert.equal(code, 0, 'A exits cleanly');
      await waitUntil(() => talk.conversation.resumes.length === 1, 'the client resumes', 60_000);
      assert.equal(talk.conversation.resumes[0]!.server, b.grpcAddress);
      assert.equal(talk.conversation.sessionId, sessionId);
      const told = talk.events.find((e) => e.event.case === 'error' && e.event.value.code === pb.ErrorCode.RECONNECT_TO_RESUME);
      assert.ok(told, 'the code says: reconnect with the token');
      // A cut the reply at the client's last playback report; the client's response_done came from A.
      const done = talk.done(long)!;
      assert.equal(done.status, pb.ResponseStatus.INTERRUPTED);
      const requestsBefore = llm.requests.length;
      await ask(talk, 'third question');
      await waitUntil(() => llm.requests.length > requestsBefore, 'the LLM request', 30_000);
      const messages = llm.requests[requestsBefore]!.messages;
      assert.deepEqual(messages.slice(0, 4), [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: FIRST_REPLY },
        { role: 'user', content: 'second question' },
      ]);
      assert.deepEqual(messages.slice(4), [
        { role: 'assistant', content: done.heardText },
        { role: 'user', content: 'third question' },
      ]);
      assert.ok(done.heardText.length > 0 && LONG_REPLY.startsWith(done.heardText) && done.heardText.length < LONG_REPLY.length, done.heardText);
      await talk.conversation.close();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  void it('a rolling update of both replicas loses no conversation', async () => {
    // Clients reach the replicas through one address, as through a Service: a TCP proxy whose
    // upstream is the replica new connections go to.
    let [a, b] = await Promise.all([replica({ DRAIN_GRACE_MS: '200' }), replica({ DRAIN_GRACE_MS: '200' })]);
    const service = await startTcpProxy(a.grpcAddress);
    const talks: Array<ReturnType<typeof converse>> = [];
    try {
      for (const [i, upstream] of [a, b].entries()) {
        service.setUpstream(upstream.grpcAddress);
        const talk = converse(`127.0.0.1:${service.port}`);
        talks.push(talk);
        const id = await ask(talk, `first question ${i}`);
        await waitUntil(() => talk.done(id) !== undefined, 'a first reply', 30_000);
      }
      // The Deployment rolls: A2 comes up, A goes (its conversation moves to B); then B2, and B goes.
      const a2 = await replica({ DRAIN_GRACE_MS: '200' });
      service.setUpstream(b.grpcAddress);
      a.child.kill('SIGTERM');
      await waitUntil(() => talks[0]!.conversation.resumes.length === 1, 'the conversation on A resumes', 60_000);
      const b2 = await replica({ DRAIN_GRACE_MS: '200' });
      service.setUpstream(b2.grpcAddress);
      b.child.kill('SIGTERM');
      await waitUntil(() => talks[0]!.conversation.resumes.length === 2 && talks[1]!.conversation.resumes.length === 1, 'both resume on B2', 60_000);
      [a, b] = [a2, b2];
      for (const [i, talk] of talks.entries()) {
        const requestsBefore = llm.requests.length;
        await ask(talk, `second question ${i}`);
        await waitUntil(() => llm.requests.length > requestsBefore, 'the LLM request', 30_000);
        const users = llm.requests[requestsBefore]!.messages.filter((m) => m.role === 'user').map((m) => m.content);
        assert.deepEqual(users, [`first question ${i}`, `second question ${i}`], 'the history came through both restarts');
        await talk.conversation.close();
      }
    } finally {
      await service.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
