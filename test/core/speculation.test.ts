/**
 * Speculative start: a stable transcript starts the reply, the final confirms or restarts it, and
 * nothing of an unconfirmed reply reaches the client. Scripted providers; audio time decides.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerEvent } from '../../src/core/events.js';
import { normalizedWords, sameRequest } from '../../src/core/speculation.js';
import { ProviderError, type ChatMessage, type Providers } from '../../src/providers/types.js';
import { SessionDriver, sessionConfig } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, concat, delay, silence, tone, type ScriptedAsrOptions } from '../support/scripted-providers.js';
import { waitUntil } from '../support/wait-until.js';

const words = (text: string) => text.split(/(?<= )/);
const echo = (messages: ChatMessage[]) => words(`You said ${messages.at(-1)?.content ?? ''}. That is all.`);

/** Stable after 240 ms of quiet (Riva's first pass), final after `endpointMs`. */
function providers(opts: { utterances?: string[] | ((ms: number) => string); endpointMs?: number; asr?: ScriptedAsrOptions; llm?: ScriptedLlm } = {}) {
  return {
    vad: new ScriptedVad(),
    asr: new ScriptedAsr(opts.utterances ?? ['what is the weather'], opts.endpointMs ?? 1000, { stableAfterMs: 240, ...opts.asr }),
    llm: opts.llm ?? new ScriptedLlm({ reply: echo }),
    tts: new ScriptedTts(),
  } satisfies Providers;
}

const speculating = sessionConfig({ speculativeStart: true });
const asrTurns = { turn: { endOfTurnSource: 'asr' as const } };

function indexOf(events: ServerEvent[], match: (e: ServerEvent) => boolean): number {
  return events.findIndex(match);
}


void describe('speculative start', () => {
  void it('a stable transcript starts the LLM before the final, whose same words confirm it (hit)', async () => {
    const p = providers();
    const d = new SessionDriver(p, speculating);
    await d.start(asrTurns);
    d.audio(concat(silence(200), tone(800), silence(400))); // stable at 240 ms of quiet; no final yet
    await d.next('transcript', (e) => e.stability === 'stable');
    await waitUntil(() => p.tts.texts.length > 0); // the early reply is already being spoken...
    await delay(100);
    assert.equal(d.all('response_started').length, 0, '...but nothing of it reached the client');
    assert.equal(d.all('response_audio').length, 0);
    d.audio(silence(800)); // the final
    const done = await d.next('response_done');
    assert.equal(done.status, 'completed');
    assert.equal(done.heardText, 'You said what is the weather. That is all.');
    assert.equal(p.llm.requests.length, 1, 'the early request was kept, not repeated');
    const metrics = (await d.next('turn_metrics')).metrics;
    assert.equal(metrics.speculative, 'hit');
    const final = indexOf(d.events, (e) => e.type === 'transcript' && e.stability === 'final');
    const started = indexOf(d.events, (e) => e.type === 'response_started');
    const firstAudio = indexOf(d.events, (e) => e.type === 'response_audio');
    assert.ok(final < started && started < firstAudio, `final, started, audio in order: ${d.summary()}`);
    d.session.end();
  });

  void it('case and punctuation do not make a miss', async () => {
    const p = providers({ asr: { finalOf: () => 'What is the weather?' } });
    const d = new SessionDriver(p, speculating);
    await d.start(asrTurns);
    d.audio(concat(silence(200), tone(800), silence(1500)));
    assert.equal((await d.next('turn_metrics')).metrics.speculative, 'hit');
    assert.equal(p.llm.requests.length, 1);
    d.session.end();
  });

  void it('a final with other words drops the early reply and restarts from the final (miss)', async () => {
    const p = providers({ asr: { finalOf: (text) => `${text} tomorrow` } });
    const d = new SessionDriver(p, speculating);
    await d.start(asrTurns);
    d.audio(concat(silence(200), tone(800), silence(400)));
    await waitUntil(() => p.tts.texts.length > 0);
    d.audio(silence(800));
    const done = await d.next('response_done');
    assert.equal(done.heardText, 'You said what is the weather tomorrow. That is all.');
    assert.equal(p.llm.requests.length, 2);
    assert.equal(p.llm.requests[1]!.at(-1)!.content, 'what is the weather tomorrow');
    assert.equal((await d.next('turn_metrics')).metrics.speculative, 'miss');
    const started = d.all('response_started');
    assert.equal(started.length, 1, 'the client saw one reply');
    assert.ok(d.all('response_audio').every((e) => e.responseId === started[0]!.responseId), 'no audio of the dropped reply');
    assert.ok(d.all('response_text').every((e) => !e.delta.includes('weather.')), 'no text of the dropped reply');
    d.session.end();
  });

  void it('the user talking on after a stable transcript drops the early reply at once', async () => {
    const p = providers({ utterances: (ms) => `utterance of ${Math.round(ms / 100) * 100} ms` });
    const d = new SessionDriver(p, speculating);
    await d.start(asrTurns);
    d.audio(concat(silence(200), tone(600), silence(300)));
    await d.next('transcript', (e) => e.stability === 'stable');
    await waitUntil(() => p.llm.requests.length === 1);
    d.audio(tone(400)); // more words: "utterance of 800 ms", then more
    await waitUntil(() => p.llm.aborts === 1);
    d.audio(silence(1500));
    const done = await d.next('response_done');
    assert.equal(p.llm.requests.at(-1)!.at(-1)!.content, 'utterance of 1000 ms');
    assert.match(done.heardText, /utterance of 1000 ms/);
    assert.equal((await d.next('turn_metrics')).metrics.speculative, 'miss');
    d.session.end();
  });

  void it('an early reply that failed shows its error only once confirmed, after response_started', async () => {
    const llm = new ScriptedLlm({ reply: echo, failWith: new ProviderError('llm', 'LLM server answered HTTP 500 (server error)') });
    const p = providers({ llm });
    const d = new SessionDriver(p, speculating);
    await d.start(asrTurns);
    d.audio(concat(silence(200), tone(800), silence(400)));
    await waitUntil(() => llm.requests.length === 1);
    await delay(100);
    assert.equal(d.all('error').length, 0, 'held while unconfirmed');
    d.audio(silence(800));
    assert.equal((await d.next('response_done')).status, 'failed');
    const started = indexOf(d.events, (e) => e.type === 'response_started');
    const error = indexOf(d.events, (e) => e.type === 'error' && e.code === 'llm_unavailable');
    assert.ok(started >= 0 && started < error, d.summary());
    assert.equal((await d.next('turn_metrics')).metrics.speculative, 'hit');
    d.session.end();
  });

  void it('is off unless the setting turns it on: the LLM waits for the final', async () => {
    const p = providers();
    const d = new SessionDriver(p);
    await d.start(asrTurns);
    d.audio(concat(silence(200), tone(800), silence(400)));
    await d.next('transcript', (e) => e.stability === 'stable');
    await d.settled();
    assert.equal(p.llm.requests.length, 0);
    d.audio(silence(800));
    await d.next('response_done');
    assert.equal((await d.next('turn_metrics')).metrics.speculative, 'none');
    d.session.end();
  });

  void it('works with VAD ending the turn too', async () => {
    const p = providers({ endpointMs: 400 });
    const d = new SessionDriver(p, speculating);
    await d.start();
    d.audio(concat(silence(200), tone(800), silence(1200)));
    assert.equal((await d.next('response_done')).status, 'completed');
    assert.equal((await d.next('turn_metrics')).metrics.speculative, 'hit');
    assert.equal(p.llm.requests.length, 1);
    d.session.end();
  });
});

void describe('LLM Retry-After', () => {
  void it('after a 429 with Retry-After, the next turn fails at once without a request and says when to retry', async () => {
    const llm = new ScriptedLlm({ reply: echo, failWith: new ProviderError('llm', 'LLM server answered HTTP 429 (rate limited); retry after 30 s', { retryAfterS: 30 }) });
    const d = new SessionDriver(providers({ llm }));
    await d.start();
    d.session.handle({ type: 'text', text: 'hello' });
    assert.match((await d.next('error')).message, /HTTP 429/);
    const first = await d.next('response_done');
    d.session.handle({ type: 'text', text: 'hello again' });
    const refused = await d.next('error', (e) => /Retry-After/.test(e.message));
    assert.equal(refused.code, 'llm_unavailable');
    assert.equal(refused.sessionContinues, true);
    assert.match(refused.message, /try again in (29|30) s/);
    assert.equal((await d.next('response_done', (e) => e.responseId !== first.responseId)).status, 'failed');
    assert.equal(llm.requests.length, 1, 'no request went to the server during the pause');
    d.session.end();
  });
});

void describe('comparing requests', () => {
  void it('normalizes case, punctuation and apostrophes only', () => {
    assert.equal(normalizedWords("What's the weather, today?"), 'whats the weather today');
    const base: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }];
    assert.ok(sameRequest([...base, { role: 'user', content: 'hi there' }], [...base, { role: 'user', content: 'Hi there!' }]));
    assert.ok(!sameRequest([...base, { role: 'user', content: 'hi there' }], [...base, { role: 'user', content: 'hi where' }]));
    assert.ok(!sameRequest([{ role: 'user', content: 'hi' }], [...base, { role: 'user', content: 'hi' }]), 'other history is another request');
  });
});
