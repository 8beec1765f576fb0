import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BargeIn, type BargeInHost } from '../../src/core/barge-in.js';
import type { SessionSettings } from '../../src/core/events.js';
import { sessionTurnSettings, turnValues } from '../../src/core/turn-config.js';

function host(mode: 'immediate' | 'pause', calls: string[], resumed?: () => void): BargeInHost {
  const turn = { ...sessionTurnSettings(turnValues()), interruptionMode: mode, bargeInMinSpeechMs: 200, falseInterruptionTimeoutMs: 100 };
  const settings = { language: 'en-US', turn } as SessionSettings;
  return {
    settings: () => settings,
    bargeInPossible: () => true,
    bargeIn: () => calls.push('barge_in'),
    pause: () => (calls.push('pause'), 'resp_1'),
    resume: (id) => (calls.push(`resume ${id}`), resumed?.()),
  };
}

describe('barge-in by interruption_mode', () => {
  it('immediate: enough speech interrupts at once; less does nothing', () => {
    const calls: string[] = [];
    const b = new BargeIn(host('immediate', calls));
    b.speech(100, 0);
    assert.deepEqual(calls, []);
    b.speech(200, 0);
    assert.deepEqual(calls, ['barge_in']);
  });

  it('pause: speech pauses once; a word that is not a backchannel interrupts', () => {
    const calls: string[] = [];
    const b = new BargeIn(host('pause', calls));
    b.speech(200, 0);
    b.speech(300, 0);
    b.transcript('mm-hmm', false);
    assert.deepEqual(calls, ['pause']);
    b.transcript('mm-hmm wait', false);
    assert.deepEqual(calls, ['pause', 'barge_in']);
  });

  it('pause: only a backchannel, with its final, resumes at once', () => {
    const calls: string[] = [];
    const b = new BargeIn(host('pause', calls));
    b.speech(250, 0);
    b.transcript('uh-huh', true);
    b.speechStopped();
    assert.deepEqual(calls, ['pause', 'resume resp_1']);
  });

  it('pause: no words at all resumes after false_interruption_timeout_ms once the speech stopped', async () => {
    const calls: string[] = [];
    let resumed!: () => void;
    const done = new Promise<void>((r) => (resumed = r));
    const b = new BargeIn(host('pause', calls, () => resumed()));
    b.speech(250, 0);
    b.speechStopped();
    assert.deepEqual(calls, ['pause']);
    await done; // the timer's check, rescheduled if it fired early
    assert.deepEqual(calls, ['pause', 'resume resp_1']);
    b.close();
  });
});
