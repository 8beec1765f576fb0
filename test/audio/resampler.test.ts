import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pooledResamplers, resampleAll, StreamResampler } from '../../src/audio/resampler.js';

function sine(frequencyHz: number, rateHz: number, samples: number, amplitude = 16000): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz)));
}

/** Sign changes between samples, ignoring the first and last `marginSamples` (filter edges). */
function zeroCrossings(pcm: Int16Array, marginSamples: number): number {
  let count = 0;
  for (let i = marginSamples + 1; i < pcm.length - marginSamples; i++) {
    if ((pcm[i - 1]! < 0) !== (pcm[i]! < 0)) count++;
  }
  return count;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function streamInChunks(pcm: Int16Array, fromRateHz: number, toRateHz: number, chunkSamples: number): Promise<Int16Array> {
  const resampler = await StreamResampler.create(fromRateHz, toRateHz);
  try {
    const parts: Int16Array[] = [];
    for (let at = 0; at < pcm.length; at += chunkSamples) parts.push(resampler.process(pcm.subarray(at, at + chunkSamples)));
    parts.push(resampler.flush());
    return concat(parts);
  } finally {
    resampler.destroy();
  }
}

describe('resampleAll', () => {
  it('keeps a 1 kHz tone at 1 kHz from 22050 to 16000 Hz and scales the length', async () => {
    const input = sine(1000, 22050, 22050); // 1 s
    const output = await resampleAll(input, 22050, 16000);
    assert.ok(Math.abs(output.length - 16000) <= 3, `length ${output.length}`);
    const margin = 100;
    const seconds = (output.length - 2 * margin) / 16000;
    const expected = 2 * 1000 * seconds;
    const got = zeroCrossings(output, margin);
    assert.ok(Math.abs(got - expected) / expected < 0.02, `${got} zero crossings, expected about ${expected}`);
  });

  it('keeps the amplitude of an in-band tone', async () => {
    const output = await resampleAll(sine(1000, 22050, 22050, 16000), 22050, 16000);
    const middle = output.subarray(1000, 15000);
    const peak = Math.max(...Array.from(middle, Math.abs));
    assert.ok(peak > 15500 && peak < 16500, `peak ${peak}`);
  });

  it('upsamples too (8 kHz telephony to 48 kHz)', async () => {
    const input = sine(440, 8000, 4000);
    const output = await resampleAll(input, 8000, 48000);
    assert.ok(Math.abs(output.length - 24000) <= 3, `length ${output.length}`);
    const margin = 600;
    const expected = (2 * 440 * (output.length - 2 * margin)) / 48000;
    const got = zeroCrossings(output, margin);
    assert.ok(Math.abs(got - expected) / expected < 0.02, `${got} zero crossings, expected about ${expected}`);
  });

  it('removes content above the new Nyquist frequency (anti-aliasing)', async () => {
    // 7 kHz cannot exist at 8 kHz; a naive decimator would fold it to 1 kHz at full level.
    const output = await resampleAll(sine(7000, 48000, 48000, 16000), 48000, 8000);
    const middle = output.subarray(500, 7500);
    const peak = Math.max(...Array.from(middle, Math.abs));
    assert.ok(peak < 500, `peak ${peak}`);
  });

  it('returns the input when the rates are equal', async () => {
    const input = sine(1000, 16000, 1600);
    assert.equal(await resampleAll(input, 16000, 16000), input);
  });

  it('handles empty input', async () => {
    assert.equal((await resampleAll(new Int16Array(0), 22050, 16000)).length, 0);
  });

  it('rejects rates the library cannot handle', async () => {
    await assert.rejects(StreamResampler.create(0, 16000), RangeError);
    await assert.rejects(StreamResampler.create(16000, 16000.5), RangeError);
    await assert.rejects(StreamResampler.create(16000, 384000), RangeError);
  });
});

describe('StreamResampler', () => {
  it('streaming in 100 ms chunks gives the same result as all at once', async () => {
    const input = sine(1000, 22050, 22050);
    const whole = await resampleAll(input, 22050, 16000);
    const streamed = await streamInChunks(input, 22050, 16000, 2205);
    assert.equal(streamed.length, whole.length);
    let maxDiff = 0;
    for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole[i]! - streamed[i]!));
    assert.ok(maxDiff <= 2, `max difference ${maxDiff}`);
  });

  it('gives the same result for odd and tiny chunk sizes', async () => {
    const input = sine(300, 16000, 8000);
    const whole = await resampleAll(input, 16000, 24000);
    for (const chunk of [1, 37, 1023]) {
      const streamed = await streamInChunks(input, 16000, 24000, chunk);
      assert.equal(streamed.length, whole.length, `chunk ${chunk}`);
      for (let i = 0; i < whole.length; i++) assert.ok(Math.abs(whole[i]! - streamed[i]!) <= 2, `chunk ${chunk}, sample ${i}`);
    }
  });

  it('keeps filter state across calls: no clicks at chunk edges', async () => {
    const input = sine(500, 16000, 16000);
    const output = await streamInChunks(input, 16000, 8000, 160);
    // A 500 Hz tone at 8 kHz moves at most 2*pi*500/8000*16000 ~ 6300 per sample.
    for (let i = 100; i < output.length - 100; i++) {
      assert.ok(Math.abs(output[i]! - output[i - 1]!) < 7000, `jump at ${i}`);
    }
  });

  it('passes samples through without WASM when the rates are equal', async () => {
    const resampler = await StreamResampler.create(16000, 16000);
    const input = sine(1000, 16000, 160);
    assert.equal(resampler.process(input), input);
    assert.equal(resampler.flush().length, 0);
    resampler.destroy();
  });

  it('is reusable after flush: a second stream gives the same output as a fresh resampler', async () => {
    const input = sine(1000, 22050, 4410);
    const resampler = await StreamResampler.create(22050, 16000);
    const first = concat([resampler.process(input), resampler.flush()]);
    const second = concat([resampler.process(input), resampler.flush()]);
    resampler.destroy();
    assert.deepEqual(second, first);
  });

  it('keeps separate instances independent', async () => {
    const a = await StreamResampler.create(22050, 16000);
    const b = await StreamResampler.create(22050, 16000);
    const input = sine(1000, 22050, 4410);
    const silent = new Int16Array(4410);
    const firstHalf = a.process(input.subarray(0, 2205));
    b.process(silent); // interleaved work on another instance must not disturb a's filter state
    const fromA = concat([firstHalf, a.process(input.subarray(2205)), a.flush()]);
    a.destroy();
    b.destroy();
    assert.deepEqual(fromA, await resampleAll(input, 22050, 16000));
  });

  it('throws after destroy; destroy twice is harmless', async () => {
    const resampler = await StreamResampler.create(48000, 16000);
    resampler.destroy();
    resampler.destroy();
    assert.throws(() => resampler.process(new Int16Array(10)), /destroy/);
  });

  it('clips instead of wrapping around at full scale', async () => {
    // A full-scale square wave makes a sinc filter overshoot (Gibbs); overshoot must saturate.
    const square = Int16Array.from({ length: 16000 }, (_, i) => (Math.floor(i / 40) % 2 === 0 ? 32767 : -32768));
    const output = await resampleAll(square, 16000, 44100);
    for (let i = 1; i < output.length; i++) assert.ok(Math.abs(output[i]! - output[i - 1]!) < 40000, `wrap-around at ${i}`);
  });
});

describe('reused library instances (the pool)', () => {
  it('a destroyed resampler gives its instance back, and the next one of the same rates takes it', async () => {
    const first = await StreamResampler.create(24000, 16000);
    const before = pooledResamplers();
    first.destroy();
    assert.equal(pooledResamplers(), before + 1);
    const second = await StreamResampler.create(24000, 16000);
    assert.equal(pooledResamplers(), before, 'taken from the pool, not instantiated');
    second.destroy();
  });

  it('a reused instance starts a fresh stream: the same output as a new one', async () => {
    const input = sine(440, 24000, 24000);
    const fresh = await streamInChunks(input, 24000, 16000, 480);
    // Leave an instance mid-stream (filter history and held-back samples), then reuse it.
    const used = await StreamResampler.create(24000, 16000);
    used.process(sine(3000, 24000, 1234));
    used.destroy();
    const again = await streamInChunks(input, 24000, 16000, 480);
    assert.deepEqual(again, fresh);
  });
});
