/**
 * A session in a language the recognizer cannot transcribe (pocketsphinx is English only; a Hindi
 * session is the everyday case): the client is told once, typed turns still get spoken replies in
 * that language, and speech still interrupts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AsrOptions, AsrStream, TtsChunk, TtsOptions } from '../../src/providers/types.js';
import { ProviderError } from '../../src/providers/types.js';
import { SessionDriver } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, concat, silence, tone } from '../support/scripted-providers.js';

const isEnglish = (language: string) => /^en(-|$)/i.test(language);

/** Like pocketsphinx: English only; a stream in another language fails as soon as it is read. */
class EnglishOnlyAsr extends ScriptedAsr {
  refusedStreams = 0;
  supportsLanguage(language: string): boolean {
    return isEnglish(language);
  }
  override stream(opts: AsrOptions, signal: AbortSignal): AsrStream {
    if (isEnglish(opts.language)) return super.stream(opts, signal);
    this.refusedStreams++;
    return {
      write: () => undefined,
      end: () => undefined,
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new ProviderError('asr', `language "${opts.language}" is not supported`)) }),
    };
  }
}

class RecordingTts extends ScriptedTts {
  readonly requested: TtsOptions[] = [];
  override stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    this.requested.push(opts);
    return super.stream(text, opts, signal);
  }
}

function providers() {
  return {
    vad: new ScriptedVad(),
    asr: new EnglishOnlyAsr(['what is the weather']),
    llm: new ScriptedLlm({ reply: () => ['नमस्ते, ', 'आज ', 'मौसम ', 'अच्छा ', 'है।'] }),
    tts: new RecordingTts({ msPerChar: 40 }),
  };
}

void describe('a language the recognizer does not support', () => {
  void it('is reported once, not once per audio chunk, and typed text still gets a reply in that language', async () => {
    const p = providers();
    const d = new SessionDriver(p);
    const ready = await d.start({ language: 'hi' });
    assert.equal(ready.settings.language, 'hi');
    d.audio(silence(2000)); // 20 chunks of a listening microphone
    d.session.handle({ type: 'text', text: 'नमस्ते' });
    const done = await d.next('response_done');
    assert.equal(done.status, 'completed');
    const errors = d.all('error');
    assert.equal(errors.length, 1, d.summary());
    assert.equal(errors[0]!.code, 'asr_unavailable');
    assert.equal(errors[0]!.sessionContinues, true);
    assert.match(errors[0]!.message, /"hi".*typed text/);
    assert.equal(p.asr.refusedStreams, 0, 'no recognizer stream is opened for a language it cannot do');
    assert.ok(p.tts.requested.length > 0 && p.tts.requested.every((o) => o.language === 'hi'), 'the reply is spoken in Hindi');
    d.session.end();
  });

  void it('speech still interrupts a reply (VAD needs no recognizer)', async () => {
    const p = providers();
    p.llm = new ScriptedLlm({ reply: () => Array.from({ length: 40 }, () => 'नमस्ते। ') });
    const d = new SessionDriver(p);
    await d.start({ language: 'hi' });
    d.session.handle({ type: 'text', text: 'नमस्ते' });
    await d.next('response_audio');
    d.audio(concat(tone(600), silence(300)));
    const done = await d.next('response_done');
    assert.equal(done.status, 'interrupted');
    d.session.end();
  });

  void it('an English session is not affected, and switching to Hindi mid-session is reported', async () => {
    const p = providers();
    const d = new SessionDriver(p);
    await d.start({ language: 'en-US' });
    d.audio(concat(silence(200), tone(800), silence(1200)));
    const final = await d.next('transcript', (e) => e.stability === 'final');
    assert.equal(final.text, 'what is the weather');
    await d.next('response_done');
    assert.equal(d.all('error').length, 0, d.summary());
    d.session.handle({ type: 'update', settings: { language: 'hi' } });
    d.audio(silence(1000));
    const error = await d.next('error');
    assert.equal(error.code, 'asr_unavailable');
    await d.settled(); // every chunk was processed: none opened a stream
    assert.equal(d.all('error').length, 1, d.summary());
    assert.equal(p.asr.refusedStreams, 0);
    d.session.end();
  });
});
