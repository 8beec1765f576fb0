/**
 * VAD end of turn counts silence from the last voiced frame. A recognizer that opens the turn on
 * the first words of new speech (the simulated one does, at once) must not let the long silence
 * before that speech end the turn before the user has finished.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatedRecognizer } from '../../src/providers/simulated/asr.js';
import { BUILT_IN_PROFILES } from '../../src/providers/simulated/profile.js';
import { SessionDriver } from '../support/session-harness.js';
import { concat, ScriptedLlm, ScriptedTts, ScriptedVad, silence, tone } from '../support/scripted-providers.js';

void describe('end of turn by VAD silence', () => {
  void it('a second utterance after a long silence is heard to its end, not cut at its first word', async () => {
    const providers = {
      vad: new ScriptedVad(),
      asr: new SimulatedRecognizer(BUILT_IN_PROFILES['zero-latency']!.asr), // one word per 300 ms of speech
      llm: new ScriptedLlm({ reply: () => ['Okay.'] }),
      tts: new ScriptedTts({ msPerChar: 20 }),
    };
    const driver = new SessionDriver(providers);
    await driver.start();
    driver.audio(concat(silence(300), tone(900), silence(1000)));
    const first = await driver.next('transcript', (e) => e.stability === 'final');
    assert.equal(first.text, 'please tell me');
    await driver.next('response_done');
    driver.audio(concat(silence(1500), tone(900), silence(1000)));
    const second = await driver.next('transcript', (e) => e.stability === 'final' && e.turnId !== first.turnId);
    assert.equal(second.text, 'please tell me', `the whole second utterance: ${driver.summary()}`);
    driver.session.end();
    await driver.finished;
  });
});
