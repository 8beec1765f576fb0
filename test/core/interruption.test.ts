import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InterruptionDecision } from '../../src/core/interruption.js';

const settings = { minWords: 1, falseTimeoutMs: 1000, language: 'en-US' };

describe('pause first, then decide', () => {
  test('a word that is not a backchannel makes it a barge-in at once, even while the user still speaks', () => {
    const d = new InterruptionDecision(settings);
    assert.equal(d.onTranscript('uh', false, 100), 'undecided');
    assert.equal(d.onTranscript('uh wait', false, 200), 'barge_in');
    assert.equal(d.onSpeechStopped(300), 'barge_in', 'a verdict stays');
  });

  test('only backchannel, then the final: the reply resumes as soon as the speech stopped', () => {
    const d = new InterruptionDecision(settings);
    assert.equal(d.onTranscript('uh-huh', false, 100), 'undecided');
    assert.equal(d.onTranscript('uh-huh yeah', true, 300), 'undecided', 'the user may still be speaking');
    assert.equal(d.onSpeechStopped(350), 'false_interruption');
  });

  test('no words at all (a cough, a noise): resumes falseTimeoutMs after the speech stopped', () => {
    const d = new InterruptionDecision(settings);
    assert.equal(d.onSpeechStopped(400), 'undecided');
    assert.equal(d.deadline, 1400);
    assert.equal(d.check(1399), 'undecided');
    assert.equal(d.check(1400), 'false_interruption');
    assert.equal(d.deadline, null);
  });

  test('speech that starts again restarts the wait; words in it still count', () => {
    const d = new InterruptionDecision(settings);
    d.onSpeechStopped(400);
    d.onSpeechStarted();
    assert.equal(d.deadline, null);
    assert.equal(d.check(5000), 'undecided', 'no timeout while the user speaks');
    assert.equal(d.onTranscript('no stop', false, 5100), 'barge_in');
  });

  test('a final heard before the speech started again does not resume it', () => {
    const d = new InterruptionDecision(settings);
    d.onTranscript('mm', true, 100);
    d.onSpeechStarted();
    assert.equal(d.onSpeechStopped(600), 'undecided');
    assert.equal(d.check(1600), 'false_interruption');
  });

  test('barge_in_min_words: fewer real words are not an interruption', () => {
    const d = new InterruptionDecision({ ...settings, minWords: 2 });
    assert.equal(d.onTranscript('stop', false, 100), 'undecided');
    assert.equal(d.onTranscript('stop please', false, 200), 'barge_in');
  });

  test('another language uses its own list', () => {
    const d = new InterruptionDecision({ ...settings, language: 'de-DE' });
    assert.equal(d.onTranscript('ja genau', true, 100), 'undecided');
    assert.equal(d.onSpeechStopped(200), 'false_interruption');
  });
});
