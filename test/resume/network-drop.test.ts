/**
 * A network drop within one process (SESSION_STORE=memory, the default): the connection is cut
 * mid-reply between client and gateway (a TCP proxy stands for the network); the client resumes,
 * the same session goes on with nothing recomputed (no new LLM request), the reply continues from
 * where it was played and ends completed, and the history holds all of it.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import type { ScriptedServer } from '../support/scripted-openai-server.js';
import { startTcpProxy, type TcpProxy } from '../../src/bench/network-link.js';
import { ask, converse, FIRST_REPLY, LONG_REPLY, playedAtLeast, startResumeGateway, SYSTEM_PROMPT, type ResumeGateway } from './support.js';

let target: ResumeGateway;
let llm: ScriptedServer;
let network: TcpProxy;

before(async () => {
  target = await startResumeGateway();
  llm = target.llm;
  network = await startTcpProxy(target.gateway.grpcAddress);
});
after(async () => {
  await network?.close();
  await target?.stop();
});

void it('a dropped connection resumes the same session: the reply goes on from where it was played, nothing is recomputed', async () => {
  // Every wait is for an event (or the played position), never for a time.
  const talk = converse(`127.0.0.1:${network.port}`);
  const done = (responseId: string, from = 0) => talk.next(`${responseId} ends`, (e) => e.event.case === 'responseDone' && e.event.value.responseId === responseId, from);
  const first = await ask(talk, 'first question');
  await done(first);
  const long = await ask(talk, 'second question');
  await playedAtLeast(talk, long, 1200);
  const requestsBefore = llm.requests.length;
  const sessionId = talk.conversation.sessionId;

  const cutAt = talk.events.length;
  assert.ok(network.cutAll() > 0, 'connections were cut');
  const ready = await talk.next('the resumed ready', (e) => e.event.case === 'ready', cutAt);
  assert.ok(ready.event.case === 'ready' && ready.event.value.resumed, 'ready.resumed');
  assert.equal(ready.event.value.sessionId, sessionId);
  assert.equal(talk.conversation.sessionId, sessionId);
  assert.ok(talk.conversation.resumes.length >= 1, 'the client counted its resume');
  const resumed = await talk.next('the reply resumes', (e) => e.event.case === 'responseResumed', cutAt);
  assert.ok(resumed.event.case === 'responseResumed', 'the reply goes on');
  const played = talk.conversation.playedAtLastDrop!;
  assert.equal(resumed.event.value.responseId, long);
  assert.ok(Math.abs(resumed.event.value.playedMs - played.playedMs) <= 250, `it goes on from where the client was (${resumed.event.value.playedMs} vs ${played.playedMs})`);
  assert.ok(LONG_REPLY.startsWith(resumed.event.value.earlierText), resumed.event.value.earlierText);

  // The audio after the resume starts where the client stopped playing, not at the beginning.
  const resumedAt = talk.events.indexOf(resumed);
  const firstAudio = await talk.next('audio after the resume', (e) => e.event.case === 'responseAudio', resumedAt);
  assert.ok(firstAudio.event.case === 'responseAudio' && firstAudio.event.value.offsetMs === resumed.event.value.playedMs);

  const longDone = await done(long, resumedAt);
  assert.ok(longDone.event.case === 'responseDone' && longDone.event.value.status === pb.ResponseStatus.COMPLETED, 'the long reply completes after the resume');
  assert.equal(llm.requests.length, requestsBefore, 'no new LLM request: the reply was not recomputed');

  const third = await ask(talk, 'third question');
  await done(third); // the LLM has had its request by then
  assert.deepEqual(llm.requests.at(-1)!.messages, [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: FIRST_REPLY },
    { role: 'user', content: 'second question' },
    { role: 'assistant', content: LONG_REPLY },
    { role: 'user', content: 'third question' },
  ]);
  await talk.conversation.close();
});
