/**
 * How a gRPC Converse call ends decides whether its session can be resumed (voice.proto: "Ending
 * the client stream ends the session cleanly"). A call the client cancels (grpc `call.cancel()`,
 * as a client does when its app goes to the background or its own deadline passes) is a dropped
 * connection: the session waits, resumable, for RESUME_WINDOW_MS, a reply in progress goes on
 * where it was played. Only the client's half-close ends it, and then its token resumes nothing.
 * Over real gRPC on loopback, with the gateway in its own process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { openConverse, type ConverseCall } from '../support/grpc-call.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import type { ScriptedServer } from '../support/scripted-openai-server.js';
import { within } from '../support/within.js';
import { FIRST_REPLY, HANG_MS, LONG_REPLY, startResumeGateway, SYSTEM_PROMPT, type ResumeGateway } from './support.js';

let target: ResumeGateway;
let llm: ScriptedServer;
let gateway: GatewayProcess;

before(async () => {
  target = await startResumeGateway();
  ({ llm, gateway } = target);
});
after(() => target?.stop());

/** The first event of `c` (received already or to come) that `matches`. */
function next(c: ConverseCall, what: string, matches: (e: pb.ConverseResponse) => boolean): Promise<pb.ConverseResponse> {
  const seen = c.events.find(matches);
  if (seen) return Promise.resolve(seen);
  return within(
    new Promise((resolve, reject) => {
      const onData = (e: pb.ConverseResponse) => {
        if (!matches(e)) return;
        c.call.off('data', onData);
        resolve(e);
      };
      c.call.on('data', onData);
      void c.status.then((s) => reject(new Error(`${what}: the call ended first (${grpc.status[s.code]}: ${s.details})`)));
    }),
    HANG_MS,
    what,
  );
}

const readyOf = async (c: ConverseCall) => {
  const e = await next(c, 'ready', (x) => x.event.case === 'ready');
  assert.ok(e.event.case === 'ready');
  return e.event.value;
};
const doneOf = (c: ConverseCall, responseId: string) => next(c, `${responseId} done`, (e) => e.event.case === 'responseDone' && e.event.value.responseId === responseId);
const startedReply = async (c: ConverseCall, after: number) => {
  const e = await next(c, 'a reply starts', (x) => x.event.case === 'responseStarted' && c.events.indexOf(x) >= after);
  assert.ok(e.event.case === 'responseStarted');
  return e.event.value.responseId;
};

/** A session with one exchange done; returns its call and ready. */
async function opened(): Promise<{ c: ConverseCall; ready: pb.SessionReady }> {
  const c = openConverse(gateway.grpcAddress);
  c.send({ case: 'start', value: {} });
  const ready = await readyOf(c);
  c.send({ case: 'text', value: { text: 'first question' } });
  await doneOf(c, await startedReply(c, 0));
  return { c, ready };
}

function resume(token: string, played?: { responseId: string; playedMs: number }): ConverseCall {
  const c = openConverse(gateway.grpcAddress);
  c.send({ case: 'start', value: { resumeToken: token, ...(played ? { played } : {}) } });
  return c;
}

void describe('a gRPC call that is cancelled or half-closed', () => {
  void it('cancelled mid-reply: the session waits and resumes, the reply goes on from where it was played, the history is whole', async () => {
    const { c, ready } = await opened();
    const before = c.events.length;
    c.send({ case: 'text', value: { text: 'second question' } });
    const long = await startedReply(c, before);
    // Some of the reply's audio has come (the client "played" what it reports below).
    await next(c, 'audio past 1 s', (e) => e.event.case === 'responseAudio' && e.event.value.responseId === long && e.event.value.offsetMs >= 1000);
    c.send({ case: 'playback', value: { responseId: long, playedMs: 1000 } });
    const requestsBefore = llm.requests.length;

    c.call.cancel();
    const status = await c.status;
    assert.equal(status.code, grpc.status.CANCELLED, 'the client cancelled');
    c.client.close();

    const back = resume(ready.resumeToken, { responseId: long, playedMs: 1000 });
    const again = await readyOf(back);
    assert.ok(again.resumed, 'ready.resumed: the same session goes on');
    assert.equal(again.sessionId, ready.sessionId);
    assert.notEqual(again.resumeToken, ready.resumeToken, 'a new token');
    const resumed = await next(back, 'response_resumed', (e) => e.event.case === 'responseResumed');
    assert.ok(resumed.event.case === 'responseResumed' && resumed.event.value.responseId === long && resumed.event.value.playedMs === 1000);
    const done = await doneOf(back, long);
    assert.ok(done.event.case === 'responseDone' && done.event.value.status === pb.ResponseStatus.COMPLETED);
    assert.equal(llm.requests.length, requestsBefore, 'nothing was recomputed');

    const third = back.events.length;
    back.send({ case: 'text', value: { text: 'third question' } });
    await doneOf(back, await startedReply(back, third)); // the LLM has had its request by then
    assert.deepEqual(llm.requests.at(-1)!.messages, [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: FIRST_REPLY },
      { role: 'user', content: 'second question' },
      { role: 'assistant', content: LONG_REPLY },
      { role: 'user', content: 'third question' },
    ]);
    back.close();
    assert.equal((await back.status).code, grpc.status.OK, 'a half-close ends the call cleanly');
  });

  void it('cancelled while nothing is playing: the session still waits and resumes', async () => {
    const { c, ready } = await opened();
    c.call.cancel();
    assert.equal((await c.status).code, grpc.status.CANCELLED);
    c.client.close();
    const back = resume(ready.resumeToken);
    const again = await readyOf(back);
    assert.ok(again.resumed && again.sessionId === ready.sessionId, 'the same session goes on');
    back.close();
  });

  void it('half-closed (the client ended its stream): the session ends, and its token resumes nothing', async () => {
    const { c, ready } = await opened();
    c.call.end();
    assert.equal((await c.status).code, grpc.status.OK);
    c.client.close();

    const back = resume(ready.resumeToken);
    const status = await within(back.status, HANG_MS, 'the refusal');
    assert.equal(status.code, grpc.status.FAILED_PRECONDITION);
    assert.match(status.details, /can no longer be resumed: it ended/);
    assert.deepEqual(back.events.map((e) => e.event.case), ['error'], 'no ready, nothing of the session');
    back.client.close();
  });
});
