import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EspeakSynthesizer } from '../../src/providers/tts/espeak.js';
import { ProviderError, type TtsChunk, type TtsOptions } from '../../src/providers/types.js';
import { concatPcm, rms } from '../support/speech-fixtures.js';
import { watchEventLoop } from '../support/event-loop-watch.js';

const SHORT = 'Hello there.';
const LONG =
  'The weather today is sunny with a light breeze from the west. ' +
  'Tomorrow it will be cloudy, and rain is expected in the evening. ' +
  'Please remember to take an umbrella when you leave the house.';
const HINDI = 'नमस्ते, आप कैसे हैं? आज मौसम बहुत अच्छा है।';

const tts = new EspeakSynthesizer();
const enUs = (sampleRateHz: number): TtsOptions => ({ voice: 'en-us', language: 'en-US', sampleRateHz });

/** espeak's pauses vary by a few ms from run to run, so lengths are compared with a tolerance. */
function assertSameLength(a: Int16Array, b: Int16Array, what: string): void {
  assert.ok(Math.abs(a.length - b.length) <= 0.02 * Math.max(a.length, b.length), `${what}: ${a.length} vs ${b.length} samples`);
}

async function synth(text: string, opts: TtsOptions, signal = new AbortController().signal): Promise<{ pcm: Int16Array; chunks: TtsChunk[] }> {
  const chunks: TtsChunk[] = [];
  for await (const c of tts.stream(text, opts, signal)) chunks.push(c);
  return { pcm: concatPcm(...chunks.map((c) => c.pcm)), chunks };
}

void describe('EspeakSynthesizer', () => {
  void it('speaks en-us at 16000 and 24000 Hz, longer text giving longer audio', async () => {
    const durations: Record<string, number> = {};
    for (const rate of [16000, 24000]) {
      const short = await synth(SHORT, enUs(rate));
      const long = await synth(LONG, enUs(rate));
      for (const r of [short, long]) {
        assert.ok(r.chunks.length > 0);
        assert.ok(r.chunks.every((c) => c.sampleRateHz === rate && c.pcm instanceof Int16Array));
        assert.ok(rms(r.pcm) > 300, `rms ${rms(r.pcm)} at ${rate} Hz`);
      }
      assert.ok(long.chunks.length > 5, `long text came in ${long.chunks.length} chunks`);
      const ds = short.pcm.length / rate;
      const dl = long.pcm.length / rate;
      assert.ok(ds > 0.4 && ds < 3, `short: ${ds} s`);
      assert.ok(dl > 3 * ds, `long ${dl} s vs short ${ds} s`);
      durations[rate] = dl;
    }
    // Same speech at both rates: the resampler keeps the duration.
    const d16 = durations[16000] as number;
    const d24 = durations[24000] as number;
    assert.ok(Math.abs(d16 - d24) / d16 < 0.02, `${d16} s at 16 kHz vs ${d24} s at 24 kHz`);
  });

  void it('derives the voice from the language and speaks Hindi (Devanagari)', async () => {
    const derived = await synth(HINDI, { voice: '', language: 'hi', sampleRateHz: 16000 });
    assert.ok(derived.pcm.length / 16000 > 1, `hi: ${derived.pcm.length / 16000} s`);
    assert.ok(rms(derived.pcm) > 300, `hi rms ${rms(derived.pcm)}`);
    const named = await synth(HINDI, { voice: 'hi', language: 'hi-IN', sampleRateHz: 16000 });
    assertSameLength(named.pcm, derived.pcm, 'hi by name vs by language');
    // en-US → en-us; en-GB has no voice named so, and is found by language.
    const us = await synth(SHORT, { voice: 'default', language: 'en-US', sampleRateHz: 16000 });
    assertSameLength(us.pcm, (await synth(SHORT, enUs(16000))).pcm, 'en-US by language vs en-us by name');
    const gb = await synth(SHORT, { voice: '', language: 'en-GB', sampleRateHz: 16000 });
    assert.ok(rms(gb.pcm) > 300);
  });

  void it('rejects an unknown voice with a ProviderError that says how to list voices', async () => {
    await assert.rejects(synth(SHORT, { voice: 'no-such-voice', language: 'en-US', sampleRateHz: 16000 }), (e: unknown) => {
      return e instanceof ProviderError && e.kind === 'tts' && /no-such-voice/.test(e.message) && /--voices/.test(e.message);
    });
    await assert.rejects(synth(SHORT, { voice: '', language: 'xx-YY', sampleRateHz: 16000 }), ProviderError);
    // The worker is still fine afterwards.
    assert.ok(rms((await synth(SHORT, enUs(16000))).pcm) > 300);
  });

  void it('abort mid-synthesis ends the stream early, and the next synthesis is complete', async () => {
    const full = await synth(LONG, enUs(16000));
    const ac = new AbortController();
    let got = 0;
    let chunks = 0;
    for await (const c of tts.stream(LONG, enUs(16000), ac.signal)) {
      got += c.pcm.length;
      if (++chunks === 2) ac.abort();
    }
    assert.equal(chunks, 2, 'no chunk after the abort');
    assert.ok(got < full.pcm.length / 2, `${got} samples after abort vs ${full.pcm.length} in full`);

    // A consumer that stops early (break) also stops the synthesis.
    let n = 0;
    for await (const _ of tts.stream(LONG, enUs(16000), new AbortController().signal)) {
      if (++n === 1) break;
    }
    assertSameLength((await synth(LONG, enUs(16000))).pcm, full.pcm, 'after aborts');
    // Already aborted: nothing at all.
    const done = new AbortController();
    done.abort();
    assert.equal((await synth(LONG, enUs(16000), done.signal)).chunks.length, 0);
  });

  void it('abort stops espeak itself: the next job does not wait for the aborted text', async () => {
    const huge = LONG.repeat(40); // a few minutes of speech
    const native = { voice: 'en-us', language: 'en-US', sampleRateHz: 22050 }; // no resampling: time espeak only
    let t0 = performance.now();
    await synth(huge, native);
    const fullMs = performance.now() - t0;
    const ac = new AbortController();
    for await (const _ of tts.stream(huge, native, ac.signal)) ac.abort();
    t0 = performance.now();
    const next = await synth(SHORT, native);
    const nextMs = performance.now() - t0;
    assert.ok(rms(next.pcm) > 300);
    assert.ok(nextMs < fullMs / 3, `short job after abort took ${nextMs.toFixed(0)} ms; the whole text takes ${fullMs.toFixed(0)} ms`);
  });

  void it('serves concurrent streams without mixing their audio', async () => {
    const [a, b] = await Promise.all([synth(LONG, enUs(16000)), synth(SHORT, enUs(24000))]);
    const [a1, b1] = [await synth(LONG, enUs(16000)), await synth(SHORT, enUs(24000))];
    assertSameLength(a.pcm, a1.pcm, 'long text, concurrent vs alone');
    assertSameLength(b.pcm, b1.pcm, 'short text, concurrent vs alone');
    assert.ok(a.pcm.length / 16000 > 3 * (b.pcm.length / 24000), 'each stream got its own text');
  });

  void it('keeps the event loop free while synthesizing', async () => {
    const text = Array.from({ length: 8 }, () => LONG).join(' ');
    const loop = watchEventLoop();
    try {
      const t0 = performance.now();
      const r = await synth(text, enUs(16000));
      const took = performance.now() - t0;
      assert.ok(r.pcm.length / 16000 > 60, `${r.pcm.length / 16000} s of audio`);
      assert.ok(loop.maxGapMs < Math.max(400, took / 2), `event loop blocked for ${loop.maxGapMs.toFixed(0)} ms (synthesis took ${took.toFixed(0)} ms, ${loop.ticks} ticks)`);
    } finally {
      loop.stop();
    }
  });

  void it('lists voices with their languages', async () => {
    const voices = await tts.listVoices();
    assert.ok(voices.length > 50);
    assert.ok(voices.some((v) => v.languages.includes('hi')));
    assert.ok(voices.some((v) => v.languages.includes('en-us')));
    // Still speaks the right voice after listing.
    assert.ok(rms((await synth(SHORT, enUs(16000))).pcm) > 300);
  });

  void it('rejects a bad output sample rate and bad options', async () => {
    await assert.rejects(synth(SHORT, enUs(1000)), ProviderError);
    assert.throws(() => new EspeakSynthesizer({ rateWpm: 5 }), ProviderError);
  });
});
