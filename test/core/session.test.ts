import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import type { Providers } from '../../src/providers/types.js';
import { ProviderError } from '../../src/providers/types.js';
import { SessionDriver, sessionConfig } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, concat, delay, silence, tone } from '../support/scripted-providers.js';
import { waitUntil } from '../support/wait-until.js';

const words = (text: string) => text.split(/(?<= )/);

function providers(parts: Partial<Providers> & { utterances?: string[] } = {}): Providers & { llm: ScriptedLlm; tts: ScriptedTts; asr: ScriptedAsr } {
  return {
    vad: parts.vad ?? new ScriptedVad(),
    asr: (parts.asr as ScriptedAsr) ?? new ScriptedAsr(parts.utterances ?? ['what is the weather', 'stop please', 'and tomorrow']),
    llm: (parts.llm as ScriptedLlm) ?? new ScriptedLlm({ reply: () => words('It is sunny today. Enjoy the warm weather outside.') }),
    tts: (parts.tts as ScriptedTts) ?? new ScriptedTts(),
  };
}

const utterance = (speechMs = 800, quietMs = 1200) => concat(silence(200), tone(speechMs), silence(quietMs));

void describe('end of turn', () => {
  void it('VAD silence ends the turn and a full reply follows, in order', async () => {
    const p = providers();
    const d = new SessionDriver(p);
    await d.start();
    d.audio(utterance());
    const done = await d.next('response_done');
    assert.equal(done.status, 'completed');
    assert.equal(done.heardText, 'It is sunny today. Enjoy the warm weather outside.');
    const order = d.events.map((e) => e.type).filter((t, i, a) => t !== a[i - 1]);
    assert.deepEqual(order.slice(0, 4), ['ready', 'speech_started', 'transcript', 'speech_stopped']);
    const final = await d.next('transcript', (e) => e.stability === 'final');
    assert.equal(final.text, 'what is the weather');
    const metrics = (await d.next('turn_metrics')).metrics;
    for (const key of ['eouDelayMs', 'llmTtftMs', 'llmFirstPieceMs', 'ttsTtfbMs', 'voiceToVoiceMs'] as const) {
      assert.equal(typeof metrics[key], 'number', `${key} measured`);
    }
    assert.ok(metrics.eouDelayMs! <= metrics.voiceToVoiceMs!, 'end of turn comes before the first audio');
    assert.deepEqual(p.llm.requests[0], [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'what is the weather' },
    ]);
    assert.deepEqual(p.tts.texts, ['It is sunny today.', 'Enjoy the warm weather outside.']);
    d.session.end();
  });

  void it('an ASR final ends the turn when the session says asr', async () => {
    const d = new SessionDriver(providers());
    await d.start({ turn: { endOfTurnSource: 'asr' } });
    d.audio(concat(tone(600), silence(500)));
    const final = await d.next('transcript', (e) => e.stability === 'final');
    assert.equal(final.text, 'what is the weather');
    await d.next('response_started');
    d.session.end();
  });

  void it('push-to-talk: nothing happens until commit', async () => {
    const p = providers();
    const d = new SessionDriver(p);
    await d.start({ turn: { endOfTurnSource: 'commit' } });
    d.audio(concat(tone(600), silence(1500)));
    await d.next('speech_stopped');
    await d.settled(); // every chunk went through VAD: silence had its chance to end the turn
    assert.equal(d.all('response_started').length, 0, 'silence alone does not end a push-to-talk turn');
    d.session.handle({ type: 'commit' });
    const final = await d.next('transcript', (e) => e.stability === 'final');
    assert.equal(final.text, 'what is the weather');
    await d.next('response_done');
    d.session.end();
  });

  void it('a typed text is a turn like a spoken one', async () => {
    const p = providers();
    const d = new SessionDriver(p);
    await d.start();
    d.session.handle({ type: 'text', text: 'hello there' });
    assert.equal((await d.next('response_done')).status, 'completed');
    assert.equal(p.llm.requests[0]?.at(-1)?.content, 'hello there');
    assert.equal(typeof (await d.next('turn_metrics')).metrics.voiceToVoiceMs, 'number');
    d.session.end();
  });
});

void describe('barge-in', () => {
  void it('while thinking: the LLM request is aborted and the reply ends interrupted with nothing heard', async () => {
    const llm = new ScriptedLlm({ reply: () => words('A very slow answer.'), tokenDelayMs: 5000 });
    const p = providers({ llm });
    const d = new SessionDriver(p);
    await d.start();
    d.audio(utterance());
    await d.next('response_started');
    d.audio(utterance(600, 1200));
    const done = await d.next('response_done');
    assert.equal(done.status, 'interrupted');
    assert.equal(done.heardText, '');
    assert.equal(llm.aborts, 1);
    await d.next('response_started', (e) => e.responseId !== done.responseId);
    assert.deepEqual(
      llm.requests[1]?.map((m) => m.role),
      ['system', 'user', 'user'],
      'nothing was heard, so no assistant message is kept',
    );
    d.session.end();
  });

  void it('before the first audio was sent: TTS calls are aborted and nothing counts as heard', async () => {
    const tts = new ScriptedTts({ chunkDelayMs: 5000 });
    const d = new SessionDriver(providers({ tts }));
    await d.start();
    d.audio(utterance());
    await d.next('response_started');
    await delay(200); // the LLM has streamed; TTS is still working on the first piece
    d.audio(utterance(600));
    const done = await d.next('response_done');
    assert.equal(done.status, 'interrupted');
    assert.equal(done.audioSentMs, 0);
    assert.equal(done.heardText, '');
    assert.ok(tts.aborts >= 1, 'the TTS call saw the abort');
    d.session.end();
  });

  void it('while speaking: the reply stops and history keeps what the playback reports say was played', async () => {
    // Two pieces of 2 s each; the client reports it played 2.5 s: the first sentence and a bit.
    const llm = new ScriptedLlm({ reply: () => words('one two three four five. six seven eight nine ten.') });
    const tts = new ScriptedTts({ msPerChar: 2000 / 24 });
    const p = providers({ llm, tts });
    const d = new SessionDriver(p);
    await d.start();
    d.audio(utterance());
    const started = await d.next('response_started');
    await d.next('response_audio', (e) => e.offsetMs >= 3500);
    d.session.handle({ type: 'playback', responseId: started.responseId, playedMs: 2500 });
    d.audio(utterance(600));
    const done = await d.next('response_done');
    assert.equal(done.status, 'interrupted');
    assert.equal(done.heardText, 'one two three four five. six');
    await d.next('response_started', (e) => e.responseId !== started.responseId);
    const history = llm.requests[1]!;
    assert.deepEqual(history.slice(1), [
      { role: 'user', content: 'what is the weather' },
      { role: 'assistant', content: 'one two three four five. six' },
      { role: 'user', content: 'stop please' },
    ]);
    d.session.end();
  });

  void it('without playback reports, history keeps what was sent', async () => {
    const llm = new ScriptedLlm({ reply: () => words('First part here. Second part there.') });
    const tts = new ScriptedTts({ chunkDelayMs: 30 });
    const d = new SessionDriver(providers({ llm, tts }));
    await d.start();
    d.audio(utterance());
    await d.next('response_audio', (e) => e.offsetMs >= 1000); // the first sentence (800 ms) is out
    d.audio(utterance(600));
    const done = await d.next('response_done');
    assert.equal(done.status, 'interrupted');
    assert.ok(done.heardText.startsWith('First part here.') && 'First part here. Second part there.'.startsWith(done.heardText), done.heardText);
    d.session.end();
  });

  void it('a provider that ignores abort is abandoned after the budget; the session keeps listening and talking', async () => {
    // Each token takes 3 s and the model does not look at its signal: it cannot stop in time.
    const llm = new ScriptedLlm({ reply: () => words('I never stop talking'), tokenDelayMs: 3000, ignoreAbort: true });
    const tts = new ScriptedTts();
    const p = providers({ llm, tts });
    const d = new SessionDriver(p);
    await d.start();
    d.audio(utterance());
    await d.next('response_started');
    d.session.handle({ type: 'interrupt' });
    const done = await d.next('response_done');
    assert.equal(done.status, 'interrupted');
    await waitUntil(() => d.abandoned.includes('llm'));
    // Not deaf and not mute: the next turn is heard and answered by a well-behaved model.
    p.llm = new ScriptedLlm({ reply: () => words('Back again.') });
    const d2 = d; // same session
    d2.session.handle({ type: 'text', text: 'are you there' });
    const second = await d2.next('response_done', (e) => e.responseId !== done.responseId);
    assert.equal(second.status, 'completed');
    d.session.end();
  });

  void it('barge-in can be turned off', async () => {
    const tts = new ScriptedTts({ chunkDelayMs: 20 });
    const d = new SessionDriver(providers({ tts }));
    await d.start({ turn: { bargeInEnabled: false } });
    d.audio(utterance());
    await d.next('response_audio');
    d.audio(utterance(600));
    assert.equal((await d.next('response_done')).status, 'completed');
    d.session.end();
  });
});

void describe('failures and limits', () => {
  void it('an LLM failure fails the turn with llm_unavailable and the session goes on', async () => {
    const llm = new ScriptedLlm({ reply: () => [], failWith: new ProviderError('llm', 'LLM server answered HTTP 503') });
    const d = new SessionDriver(providers({ llm }));
    await d.start();
    d.session.handle({ type: 'text', text: 'hi' });
    const error = await d.next('error');
    assert.equal(error.code, 'llm_unavailable');
    assert.equal(error.sessionContinues, true);
    assert.equal((await d.next('response_done')).status, 'failed');
    d.session.end();
  });

  void it('audio before start, odd PCM bytes, bad rates and long text get clear errors and the session survives', async () => {
    const d = new SessionDriver(providers(), sessionConfig({ maxTextChars: 10 }));
    d.session.handle({ type: 'audio', data: new Uint8Array(320) });
    assert.match((await d.next('error')).message, /first message of a session must be start/);
    d.session.handle({ type: 'start', settings: { inputFormat: { sampleRateHz: 1e9 } }, metadata: {} });
    assert.match((await d.next('error', (e) => /sample_rate_hz/.test(e.message))).message, /1000000000 is out of range: use 8000 to 48000/);
    d.session.handle({ type: 'start', settings: { inputFormat: { encoding: 'opus' } }, metadata: {} });
    assert.match((await d.next('error', (e) => /encoding/.test(e.message))).message, /"opus" is not supported: use pcm16, mulaw, alaw/);
    await d.start();
    d.session.handle({ type: 'audio', data: new Uint8Array(321) });
    assert.match((await d.next('error', (e) => /whole 2-byte samples/.test(e.message))).message, /321 bytes/);
    d.session.handle({ type: 'text', text: 'this is far too long' });
    assert.match((await d.next('error', (e) => /characters long/.test(e.message))).message, /at most 10/);
    d.session.handle({ type: 'text', text: 'short' });
    assert.equal((await d.next('response_done')).status, 'completed');
    d.session.end();
  });

  void it('mu-law input at 8 kHz is understood', async () => {
    const { encodeAudio } = await import('../../src/audio/codec.js');
    const d = new SessionDriver(providers());
    await d.start({ inputFormat: { encoding: 'mulaw', sampleRateHz: 8000 } });
    const pcm = concat(silence(200, 8000), tone(800, 8000), silence(1200, 8000));
    for (let at = 0; at < pcm.length; at += 800) d.session.handle({ type: 'audio', data: encodeAudio(pcm.subarray(at, at + 800), 'mulaw') });
    assert.equal((await d.next('transcript', (e) => e.stability === 'final')).text, 'what is the weather');
    d.session.end();
  });

  void it('a client that stops reading is disconnected, not buffered without limit', async () => {
    const p = providers({ tts: new ScriptedTts({ msPerChar: 500 }) });
    const { Session } = await import('../../src/core/session.js');
    const session = new Session(p, sessionConfig({ outboundQueueMaxBytes: 200_000 }));
    session.handle({ type: 'start', settings: {}, metadata: {} });
    session.handle({ type: 'text', text: 'talk a lot' }); // nobody reads session.events
    await waitUntil(() => session.closeReason !== undefined);
    assert.match(session.closeReason!, /client stopped reading: more than 200000 bytes/);
  });

  void it('idle and maximum duration limits close the session with a clear error', async () => {
    const idle = new SessionDriver(providers(), sessionConfig({ idleTimeoutMs: 200 }));
    await idle.start();
    const idleError = await idle.next('error');
    assert.equal(idleError.sessionContinues, false);
    assert.match(idleError.message, /no message from the client for 0.2 s/);
    const long = new SessionDriver(providers(), sessionConfig({ maxDurationMs: 300 }));
    await long.start();
    const keepAlive = setInterval(() => long.session.handle({ type: 'audio', data: bytesFromPcm16(silence(20)) }), 20);
    const longError = await long.next('error');
    clearInterval(keepAlive);
    assert.match(longError.message, /maximum duration of 0.3 s/);
    await long.finished;
  });

  void it('a flood of messages beyond the inbound bound closes the session', async () => {
    const d = new SessionDriver(providers(), sessionConfig({ inboundQueueMaxMessages: 8 }));
    d.session.handle({ type: 'start', settings: {}, metadata: {} });
    for (let i = 0; i < 100; i++) d.session.handle({ type: 'audio', data: new Uint8Array(640) });
    const error = await d.next('error');
    assert.equal(error.code, 'resource_exhausted');
    assert.match(error.message, /more than 8 client messages/);
  });
});

