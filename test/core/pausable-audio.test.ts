import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PausableAudio, type OutChunk } from '../../src/core/pausable-audio.js';

const chunk = (offsetMs: number): OutChunk => ({ data: new Uint8Array(3200), offsetMs, durationMs: 100 });

test('paused: nothing goes out; resumed: from the played position (cut between samples), then what waited', () => {
  const sent: number[] = [];
  const bytes: number[] = [];
  const out = new PausableAudio((c) => {
    sent.push(c.offsetMs);
    bytes.push(c.data.byteLength);
  }, 2);
  for (const at of [0, 100, 200, 300]) out.push(chunk(at));
  out.played(150); // the client played into the second chunk
  out.pause();
  out.push(chunk(400));
  out.push(chunk(500));
  assert.deepEqual(sent, [0, 100, 200, 300], 'no audio while paused');
  assert.equal(out.keptBytes, 5 * 3200, 'kept: 3 sent after the played position, 2 waiting');
  sent.length = 0;
  bytes.length = 0;
  assert.equal(out.resume(), 150);
  assert.deepEqual(sent, [150, 200, 300, 400, 500]);
  assert.equal(bytes[0], 1600, 'the second half of the chunk played into: 800 samples of 1600');
  out.push(chunk(600));
  assert.deepEqual(sent.at(-1), 600, 'and on as usual');
});

test('a resume with everything played sends only what waited', () => {
  const sent: number[] = [];
  const out = new PausableAudio((c) => sent.push(c.offsetMs), 2);
  out.push(chunk(0));
  out.played(100);
  out.pause();
  out.push(chunk(100));
  sent.length = 0;
  assert.equal(out.resume(), 100);
  assert.deepEqual(sent, [100]);
  assert.equal(out.keptBytes, 3200);
});
