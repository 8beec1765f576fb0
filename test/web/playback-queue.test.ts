/** The playback worklet's queue: jitter buffer, flush on interruption, and positions per reply. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlaybackQueue } from '../../web/src/audio/playback-queue.js';

const QUANTUM = 128;
const ramp = (n: number, level = 0.5) => Float32Array.from({ length: n }, () => level);

function render(queue: PlaybackQueue, quanta: number): Float32Array {
  const out = new Float32Array(QUANTUM * quanta);
  const block = new Float32Array(QUANTUM);
  for (let q = 0; q < quanta; q++) {
    queue.render(block);
    out.set(block, q * QUANTUM);
  }
  return out;
}

void describe('playback queue', () => {
  void it('waits until the jitter buffer holds enough audio, then plays it in order', () => {
    const queue = new PlaybackQueue({ startThresholdSamples: 1000 });
    queue.push('resp_1', ramp(600, 0.25));
    assert.ok(render(queue, 2).every((s) => s === 0), 'silent while below the threshold');
    queue.push('resp_1', ramp(600, 0.5));
    const out = render(queue, 10);
    assert.equal(out[0], 0.25);
    assert.equal(out[600], 0.5);
    assert.equal(queue.played.get('resp_1'), 1200);
    assert.equal(queue.soundSamples, 1200);
    assert.equal(queue.peak, 0.5);
  });

  void it('a short tail below the threshold still plays once it has waited that long', () => {
    const queue = new PlaybackQueue({ startThresholdSamples: 1000 });
    queue.push('resp_1', ramp(300));
    render(queue, 20); // 2560 samples of time: more than the threshold
    assert.equal(queue.played.get('resp_1'), 300);
    assert.equal(queue.bufferedSamples, 0);
  });

  void it('a flush drops the queued audio of that reply at once and nothing more of it plays', () => {
    const queue = new PlaybackQueue({ startThresholdSamples: 256 });
    queue.push('resp_1', ramp(16000));
    render(queue, 4);
    const playedBefore = queue.played.get('resp_1')!;
    assert.equal(playedBefore, 512);
    assert.equal(queue.flush('resp_1'), 16000 - 512);
    assert.ok(render(queue, 8).every((s) => s === 0), 'silence right after the flush');
    assert.equal(queue.played.get('resp_1'), playedBefore, 'the position stays where it was heard');
  });

  void it('a flush of one reply keeps the next reply queued', () => {
    const queue = new PlaybackQueue({ startThresholdSamples: 0 });
    queue.push('resp_1', ramp(1000, 0.25));
    queue.push('resp_2', ramp(1000, 0.75));
    assert.equal(queue.flush('resp_1'), 1000);
    const out = render(queue, 2);
    assert.equal(out[0], 0.75);
    assert.equal(queue.played.get('resp_2'), 256);
  });
});
