/**
 * A session as data and back (core/session-snapshot.ts): a restored session has the same
 * conversation, settings and ids, carries items of kinds it does not know whole (tool exchanges),
 * and ends a reply that was in progress where it was saved as interrupted at what was played.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerEvent } from '../../src/core/events.js';
import { Session } from '../../src/core/session.js';
import type { SessionSnapshot } from '../../src/core/session-snapshot.js';
import type { Providers } from '../../src/providers/types.js';
import { sessionConfig, SessionDriver } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, tone } from '../support/scripted-providers.js';
import { waitUntil } from '../support/wait-until.js';

function providers(llm: ScriptedLlm, heard: string[] = []): Providers {
  return { vad: new ScriptedVad(), asr: new ScriptedAsr(heard), llm, tts: new ScriptedTts({ msPerChar: 20 }) };
}

/** A restored session and the events it sends. */
function restored(llm: ScriptedLlm, snapshot: unknown, played?: { responseId: string; playedMs: number }) {
  const data = JSON.parse(JSON.stringify(snapshot)) as SessionSnapshot;
  const session = new Session(providers(llm), sessionConfig(), {}, data.sessionId);
  const events: ServerEvent[] = [];
  void (async () => {
    for await (const event of session.events) events.push(event);
  })();
  session.resume.restore(data, played);
  // What the restore sent is queued already; the loop above has taken it all by the next turn of the event loop.
  const done = new Promise<void>((resolve) => setImmediate(resolve));
  return { session, events, done };
}

void describe('session snapshot and restore', () => {
  void it('a restored session has the conversation, the settings and the ids of the saved one', async () => {
    const llm = new ScriptedLlm({ reply: (messages) => [`Answer ${messages.filter((m) => m.role === 'user').length}.`] });
    const driver = new SessionDriver(providers(llm));
    await driver.start({ instructions: 'Speak like a pirate.' });
    for (const [i, text] of ['one', 'two'].entries()) {
      driver.session.handle({ type: 'text', text });
      await driver.next('response_done', (e) => e.responseId === `resp_${i + 1}` && e.status === 'completed');
    }
    const snapshot = driver.session.resume.snapshot();
    driver.session.close('saved', 'other');

    const again = restored(llm, snapshot);
    await again.done;
    const ready = again.events.find((e) => e.type === 'ready');
    assert.ok(ready?.type === 'ready' && ready.resumed && ready.sessionId === snapshot.sessionId && ready.settings.instructions === 'Speak like a pirate.');
    again.session.handle({ type: 'text', text: 'three' });
    await waitUntil(() => again.events.some((e) => e.type === 'response_done'), 'the third reply', 10_000);
    assert.deepEqual(llm.requests.at(-1), [
      { role: 'system', content: 'Speak like a pirate.' },
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'Answer 1.' },
      { role: 'user', content: 'two' },
      { role: 'assistant', content: 'Answer 2.' },
      { role: 'user', content: 'three' },
    ]);
    const started = again.events.find((e) => e.type === 'response_started');
    assert.deepEqual(started, { type: 'response_started', responseId: 'resp_3', turnId: 'turn_3' }, 'ids go on from the saved ones');
    again.session.close('done', 'other');
  });

  void it('items of kinds the core does not know ride along whole (tool exchanges)', async () => {
    const llm = new ScriptedLlm({ reply: () => ['Fine.'] });
    const driver = new SessionDriver(providers(llm));
    await driver.start();
    driver.session.handle({ type: 'text', text: 'what time is it' });
    await driver.next('response_done');
    const snapshot = driver.session.resume.snapshot();
    driver.session.close('saved', 'other');
    const toolCall = { id: 'call_1', type: 'function', function: { name: 'clock', arguments: '{}' } };
    Object.assign(snapshot.history[1]!, { toolCalls: [toolCall] });
    const again = restored(llm, snapshot);
    await again.done;
    assert.deepEqual((again.session.resume.snapshot().history[1] as unknown as Record<string, unknown>).toolCalls, [toolCall]);
    again.session.close('done', 'other');
  });

  void it('a reply in progress when saved ends interrupted, its text cut at what the client played', async () => {
    const reply = 'The first sentence is here. The second sentence follows it. The third one ends it.';
    const llm = new ScriptedLlm({ reply: () => reply.split(/(?<= )/) });
    const driver = new SessionDriver(providers(llm));
    await driver.start();
    driver.session.handle({ type: 'text', text: 'talk to me' });
    await driver.next('response_text', (e) => e.delta.includes('third'));
    const snapshot = driver.session.resume.snapshot();
    assert.equal(snapshot.replies.active?.id, 'resp_1');
    driver.session.close('saved', 'other');
    // 27 characters at 20 ms each: the first sentence was heard, and too little of the second for a word.
    const again = restored(llm, snapshot, { responseId: 'resp_1', playedMs: 27 * 20 + 50 });
    await again.done;
    const done = again.events.find((e) => e.type === 'response_done');
    assert.deepEqual(done, { type: 'response_done', responseId: 'resp_1', status: 'interrupted', heardText: 'The first sentence is here.', audioSentMs: 590, cause: 'client' });
    again.session.handle({ type: 'text', text: 'go on' });
    await waitUntil(() => llm.requests.length === 2, 'the next request', 10_000);
    assert.deepEqual(llm.requests[1]!.slice(1), [
      { role: 'user', content: 'talk to me' },
      { role: 'assistant', content: 'The first sentence is here.' },
      { role: 'user', content: 'go on' },
    ]);
    again.session.close('done', 'other');
  });

  void it('a turn the user was speaking when saved ends with the words recognized, and is answered', async () => {
    const llm = new ScriptedLlm({ reply: () => ['Sure.'] });
    const driver = new SessionDriver(providers(llm, ['turn on the lights']));
    await driver.start();
    driver.audio(tone(1000)); // speech, and no silence after it: the turn has not ended
    await driver.next('transcript', (e) => e.stability === 'partial' && e.text === 'turn on the lights');
    const snapshot = driver.session.resume.snapshot();
    assert.deepEqual(snapshot.pendingTurn, { id: 'turn_1', text: 'turn on the lights' });
    driver.session.close('saved', 'other');
    const again = restored(llm, snapshot);
    await again.done;
    await waitUntil(() => llm.requests.length === 1, 'the turn is answered', 10_000);
    assert.deepEqual(llm.requests[0]!.at(-1), { role: 'user', content: 'turn on the lights' });
    assert.ok(again.events.some((e) => e.type === 'transcript' && e.stability === 'final' && e.turnId === 'turn_1'));
    again.session.close('done', 'other');
  });
});
