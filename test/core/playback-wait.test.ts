/**
 * A reply stays current until the client has played it; each playback report wakes the wait.
 * A long reply gets many reports: each wait must end whole, leaving no timer or abort listener
 * behind (they piled up, one per report, and Node warned of a listener leak after ten).
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import type { TtsChunk, TtsOptions } from '../../src/providers/types.js';
import { SessionDriver } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, delay } from '../support/scripted-providers.js';

/** Keeps the reply's abort signal, which the reply also waits on. */
class SignalKeepingTts extends ScriptedTts {
  signal: AbortSignal | undefined;
  override stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    this.signal = signal;
    return super.stream(text, opts, signal);
  }
}

void describe('waiting for playback', () => {
  void it('thirty playback reports during a long reply leave no abort listeners behind, and the reply completes', async () => {
    const tts = new SignalKeepingTts({ msPerChar: 100 });
    const d = new SessionDriver({
      vad: new ScriptedVad(),
      asr: new ScriptedAsr(['unused']),
      llm: new ScriptedLlm({ reply: () => ['This reply lasts for about five seconds.'] }),
      tts,
    });
    await d.start();
    d.session.handle({ type: 'text', text: 'talk to me' });
    const started = await d.next('response_started');
    await d.next('response_audio');
    await delay(100); // all audio made: the reply now waits for playback
    assert.ok(tts.signal, 'the TTS saw the reply signal');
    const before = getEventListeners(tts.signal, 'abort').length;
    for (let i = 1; i <= 30; i++) {
      d.session.handle({ type: 'playback', responseId: started.responseId, playedMs: i * 100 });
      await delay(2);
    }
    const after = getEventListeners(tts.signal, 'abort').length;
    assert.equal(after, before, `abort listeners on the reply's signal: ${before} before the reports, ${after} after`);
    d.session.handle({ type: 'playback', responseId: started.responseId, playedMs: 60_000 });
    const done = await d.next('response_done');
    assert.equal(done.status, 'completed');
    d.session.end();
  });
});
