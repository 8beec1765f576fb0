import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resampleAll } from '../../src/audio/resampler.js';
import { SileroVad } from '../../src/providers/vad/silero.js';
import type { VadStream } from '../../src/providers/types.js';
import { concatPcm, silence, speechFixture } from '../support/speech-fixtures.js';

const SPEECH = 'please turn off the lights in the kitchen';

async function probabilities(stream: VadStream, pcm: Int16Array, frameSamples: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i + frameSamples <= pcm.length; i += frameSamples) {
    out.push(await stream.speechProbability(pcm.subarray(i, i + frameSamples)));
  }
  return out;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

for (const modelVersion of ['legacy', 'v5'] as const) {
  void describe(`SileroVad ${modelVersion}`, () => {
    void it('finds speech in the middle of silence', async () => {
      const vad = await SileroVad.load({ modelVersion });
      assert.equal(vad.sampleRateHz, 16000);
      assert.equal(vad.frameSamples, 512);
      // 1 s silence, speech (flite, no own padding), 1 s silence.
      const speech = await speechFixture(SPEECH, { padStartS: 0, padEndS: 0 });
      const pcm = concatPcm(silence(1000), speech, silence(1000));
      const stream = vad.createStream();
      const p = await probabilities(stream, pcm, vad.frameSamples);
      stream.close();

      const frameS = 512 / 16000;
      const speechStart = 1.0;
      const speechEnd = 1.0 + speech.length / 16000;
      // Leave a margin around the edges, where the model legitimately lags.
      const lead = p.filter((_, i) => (i + 1) * frameS < speechStart - 0.1);
      const tail = p.filter((_, i) => i * frameS > speechEnd + 0.5);
      const inside = p.filter((_, i) => i * frameS > speechStart + 0.2 && (i + 1) * frameS < speechEnd - 0.2);

      assert.ok(lead.length > 20 && tail.length > 5 && inside.length > 20, 'fixture layout');
      assert.ok(Math.max(...lead) < 0.3, `leading silence max ${Math.max(...lead)}`);
      assert.ok(Math.max(...tail) < 0.3, `trailing silence max ${Math.max(...tail)}`);
      assert.ok(mean(inside) > 0.6, `speech mean ${mean(inside)}`);
      const high = inside.filter((x) => x > 0.5).length / inside.length;
      assert.ok(high > 0.6, `share of speech frames above 0.5: ${high}`);
      await vad.release();
    });

    void it('keeps separate state per stream', async () => {
      const vad = await SileroVad.load({ modelVersion });
      const speech = await speechFixture(SPEECH, { padStartS: 0, padEndS: 0 });
      const quiet = silence(1500);
      const a = vad.createStream();
      const b = vad.createStream();
      const fresh = vad.createStream();
      const n = vad.frameSamples;
      // Interleave: a hears speech while b hears silence, frame by frame, concurrently.
      const frames = Math.min(Math.floor(speech.length / n), Math.floor(quiet.length / n));
      const pa: number[] = [];
      const pb: number[] = [];
      for (let i = 0; i < frames; i++) {
        const [x, y] = await Promise.all([
          a.speechProbability(speech.subarray(i * n, (i + 1) * n)),
          b.speechProbability(quiet.subarray(i * n, (i + 1) * n)),
        ]);
        pa.push(x);
        pb.push(y);
      }
      assert.ok(mean(pa) > 0.5, `speech stream mean ${mean(pa)}`);
      assert.ok(Math.max(...pb) < 0.3, `silence stream max ${Math.max(...pb)}`);
      // b's state was never touched by a's audio: it gives the same answers as a fresh stream.
      const pf = await probabilities(fresh, quiet.subarray(0, frames * n), n);
      for (let i = 0; i < frames; i++) assert.ok(Math.abs((pf[i] as number) - (pb[i] as number)) < 1e-5, `frame ${i}`);
      // Same input, same stream history → same output (state comes from the stream, not the model).
      const c = vad.createStream();
      const d = vad.createStream();
      const pc = await probabilities(c, speech.subarray(0, 20 * n), n);
      const pd = await probabilities(d, speech.subarray(0, 20 * n), n);
      assert.deepEqual(pc, pd);
      for (const s of [a, b, c, d, fresh]) s.close();
      await assert.rejects(a.speechProbability(new Int16Array(n)));
      await vad.release();
    });

    void it('takes 8 kHz phone audio as it is: 256-sample frames of the same 32 ms, the same speech found', async () => {
      const vad = await SileroVad.load({ modelVersion });
      assert.equal(vad.frameSamplesAt(8000), 256);
      assert.equal(vad.frameSamplesAt(16000), 512);
      assert.equal(vad.frameSamplesAt(44100), undefined);
      assert.throws(() => vad.createStream(44100), /16000 or 8000 Hz audio, not 44100/);
      const speech = await speechFixture(SPEECH, { padStartS: 0, padEndS: 0 });
      const wideband = concatPcm(silence(1000), speech, silence(1000));
      const narrowband = await resampleAll(wideband, 16000, 8000);
      const wide = await probabilities(vad.createStream(), wideband, 512);
      const narrowStream = vad.createStream(8000);
      const narrow = await probabilities(narrowStream, narrowband, 256);
      await assert.rejects(narrowStream.speechProbability(new Int16Array(512)), /256 samples/);
      const frameS = 0.032;
      const speechEnd = 1.0 + speech.length / 16000;
      const lead = narrow.filter((_, i) => (i + 1) * frameS < 0.9);
      const inside = narrow.filter((_, i) => i * frameS > 1.2 && (i + 1) * frameS < speechEnd - 0.2);
      assert.ok(Math.max(...lead) < 0.3 && mean(inside) > 0.6, `8 kHz: silence max ${Math.max(...lead)}, speech mean ${mean(inside)}`);
      const agree = wide.filter((p, i) => p > 0.5 === (narrow[i] ?? 0) > 0.5).length / wide.length;
      assert.ok(agree > 0.9, `frames judged alike at 16 and 8 kHz: ${(agree * 100).toFixed(0)} %`);
      await vad.release();
    });

    void it('rejects frames of the wrong size', async () => {
      const vad = await SileroVad.load({ modelVersion });
      const s = vad.createStream();
      await assert.rejects(s.speechProbability(new Int16Array(100)), /512/);
      s.close();
      await vad.release();
    });
  });
}
