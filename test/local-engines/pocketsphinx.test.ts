import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PocketsphinxRecognizer } from '../../src/providers/asr/pocketsphinx.js';
import { ProviderError, type AsrResult, type AsrStream } from '../../src/providers/types.js';
import { chunkPcm, concatPcm, silence, speechFixture } from '../support/speech-fixtures.js';
import { watchEventLoop } from '../support/event-loop-watch.js';

const KITCHEN = 'please turn off the lights in the kitchen';
const WEATHER = 'what is the weather like today';
const en = { language: 'en-US', sampleRateHz: 16000 };

/** Collects results until the iterator ends. */
async function collect(stream: AsrStream): Promise<AsrResult[]> {
  const out: AsrResult[] = [];
  for await (const r of stream) out.push(r);
  return out;
}

function writeAll(stream: AsrStream, pcm: Int16Array, chunkMs = 100): void {
  for (const c of chunkPcm(pcm, chunkMs)) stream.write(c);
}

function finals(results: AsrResult[]): string {
  return results
    .filter((r) => r.kind === 'final')
    .map((r) => r.text)
    .join(' | ');
}

const recognizers: PocketsphinxRecognizer[] = [];
function recognizer(opts: ConstructorParameters<typeof PocketsphinxRecognizer>[0] = {}): PocketsphinxRecognizer {
  const r = new PocketsphinxRecognizer(opts);
  recognizers.push(r);
  return r;
}
/** One single-worker recognizer shared by most tests (a worker and its model take ~1 s to start). */
let shared: PocketsphinxRecognizer | undefined;
function sharedRecognizer(): PocketsphinxRecognizer {
  shared ??= recognizer({ workers: 1 });
  return shared;
}
after(async () => {
  await Promise.all(recognizers.map((r) => r.close()));
});

void describe('PocketsphinxRecognizer', () => {
  void it('streams partials, then a final at the end of speech (its own endpointing)', async () => {
    const asr = sharedRecognizer();
    assert.equal(asr.sampleRateHz, 16000);
    const pcm = await speechFixture(KITCHEN, { padStartS: 0.5, padEndS: 1.2 });
    const stream = asr.stream(en, new AbortController().signal);
    const results: AsrResult[] = [];
    const it = stream[Symbol.asyncIterator]();
    writeAll(stream, pcm);
    // No end() yet: the final must come from pocketsphinx's in_speech 1→0 (1.2 s of trailing silence).
    for (;;) {
      const r = await it.next();
      assert.ok(!r.done, 'stream ended before a final');
      results.push(r.value);
      if (r.value.kind === 'final') break;
    }
    stream.end();
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      results.push(r.value);
    }
    const partials = results.filter((r) => r.kind === 'partial');
    assert.ok(partials.length >= 2, `partials: ${JSON.stringify(partials)}`);
    for (let i = 1; i < partials.length; i++) assert.notEqual(partials[i]?.text, partials[i - 1]?.text, 'partials repeat');
    const finalIdx = results.findIndex((r) => r.kind === 'final');
    assert.ok(finalIdx > 0 && results.slice(0, finalIdx).every((r) => r.kind === 'partial'), 'partials come before the final');
    const text = finals(results);
    assert.match(text, /\blights\b/);
    assert.match(text, /\bkitchen\b/);
    assert.equal(results.filter((r) => r.kind === 'final').length, 1, `finals: ${text}`);
  });

  void it('end() flushes the last utterance as a final and ends the iterator', async () => {
    const asr = sharedRecognizer();
    const pcm = await speechFixture(KITCHEN, { padStartS: 0.3, padEndS: 0 });
    const stream = asr.stream(en, new AbortController().signal);
    const done = collect(stream);
    writeAll(stream, pcm);
    stream.end();
    const results = await done;
    const text = finals(results);
    assert.match(text, /\bkitchen\b/);
    stream.write(new Int16Array(160)); // ignored after end
  });

  void it('keeps concurrent streams apart (same worker and separate workers)', async () => {
    const [kitchen, weather] = await Promise.all([
      speechFixture(KITCHEN, { padStartS: 0.3, padEndS: 0.8 }),
      speechFixture(WEATHER, { padStartS: 0.6, padEndS: 0.8 }),
    ]);
    for (const workers of [1, 2]) {
      const asr = workers === 1 ? sharedRecognizer() : recognizer({ workers });
      const a = asr.stream(en, new AbortController().signal);
      const b = asr.stream(en, new AbortController().signal);
      const ra = collect(a);
      const rb = collect(b);
      const ca = chunkPcm(kitchen, 60);
      const cb = chunkPcm(weather, 60);
      for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
        const x = ca[i];
        const y = cb[i];
        if (x) a.write(x);
        if (y) b.write(y);
      }
      a.end();
      b.end();
      const [ta, tb] = [finals(await ra), finals(await rb)];
      assert.match(ta, /\bkitchen\b/, `workers=${workers} a: ${ta}`);
      assert.match(tb, /\bweather\b/, `workers=${workers} b: ${tb}`);
      assert.doesNotMatch(ta, /weather|today/, `workers=${workers} a: ${ta}`);
      assert.doesNotMatch(tb, /kitchen|lights/, `workers=${workers} b: ${tb}`);
    }
  });

  void it('abort ends the iterator at once; the decoder is reused cleanly', async () => {
    const asr = sharedRecognizer();
    const pcm = await speechFixture(KITCHEN, { padStartS: 0.3, padEndS: 1.0 });
    const ac = new AbortController();
    const stream = asr.stream(en, ac.signal);
    const it = stream[Symbol.asyncIterator]();
    // Speech only up to the middle, so nothing final is pending.
    writeAll(stream, pcm.subarray(0, Math.floor(pcm.length / 2)));
    const first = await it.next();
    assert.equal(first.done, false);
    const pending = it.next(); // waits for more
    const t0 = performance.now();
    ac.abort();
    const r = await pending;
    assert.equal(r.done, true);
    assert.ok(performance.now() - t0 < 1000, 'abort took too long');
    stream.write(pcm); // ignored
    stream.end(); // ignored
    assert.equal((await it.next()).done, true);

    // The same (single) worker reuses the decoder: the next stream must not see the old audio.
    const again = asr.stream(en, new AbortController().signal);
    const results = collect(again);
    writeAll(again, await speechFixture(WEATHER, { padStartS: 0.3, padEndS: 0.8 }));
    again.end();
    const text = finals(await results);
    assert.match(text, /\bweather\b/);
    assert.doesNotMatch(text, /kitchen|lights/);
  });

  void it('an already aborted signal gives an empty stream', async () => {
    const asr = sharedRecognizer();
    const ac = new AbortController();
    ac.abort();
    const stream = asr.stream(en, ac.signal);
    stream.write(new Int16Array(1600));
    stream.end();
    assert.deepEqual(await collect(stream), []);
  });

  void it('keeps the event loop free while decoding', async () => {
    const asr = sharedRecognizer();
    await asr.warmUp();
    const one = await speechFixture(KITCHEN, { padStartS: 0.3, padEndS: 0.8 });
    const pcm = concatPcm(one, one, one, one); // ~14 s of audio, written at once
    const loop = watchEventLoop();
    try {
      const stream = asr.stream(en, new AbortController().signal);
      const results = collect(stream);
      writeAll(stream, pcm, 20);
      stream.end();
      const t0 = performance.now();
      const text = finals(await results);
      const took = performance.now() - t0;
      assert.equal((text.match(/kitchen/g) ?? []).length, 4, text);
      // Decoding 14 s takes ~1 s of CPU in the worker; the timer must have kept ticking meanwhile.
      assert.ok(loop.ticks >= Math.min(10, took / 50), `ticks ${loop.ticks} in ${took.toFixed(0)} ms`);
      assert.ok(loop.maxGapMs < Math.max(400, took / 2), `event loop blocked for ${loop.maxGapMs.toFixed(0)} ms (decoding took ${took.toFixed(0)} ms)`);
    } finally {
      loop.stop();
    }
  });

  void it('is English only, with a clear message for other languages', async () => {
    assert.equal(PocketsphinxRecognizer.supportsLanguage('en-US'), true);
    assert.equal(PocketsphinxRecognizer.supportsLanguage('en'), true);
    assert.equal(PocketsphinxRecognizer.supportsLanguage('hi-IN'), false);
    assert.throws(() => PocketsphinxRecognizer.checkLanguage('hi-IN'), (e: unknown) => e instanceof ProviderError && e.kind === 'asr' && /Riva/.test(e.message));
    const asr = sharedRecognizer();
    const stream = asr.stream({ language: 'hi-IN', sampleRateHz: 16000 }, new AbortController().signal);
    await assert.rejects(collect(stream), (e: unknown) => e instanceof ProviderError && /hi-IN/.test(e.message));
  });

  void it('rejects a missing model and bad settings with ProviderError', () => {
    assert.throws(() => new PocketsphinxRecognizer({ modelDir: '/nonexistent' }), (e: unknown) => e instanceof ProviderError && /apt-get/.test(e.message));
    assert.throws(() => new PocketsphinxRecognizer({ vadPostspeechMs: -1 }), ProviderError);
  });

  void it('passes endpointing settings to pocketsphinx (a short pause splits with a short postspeech)', async () => {
    const [kitchen, weather] = await Promise.all([
      speechFixture(KITCHEN, { padStartS: 0.3, padEndS: 0 }),
      speechFixture(WEATHER, { padStartS: 0, padEndS: 0.8 }),
    ]);
    const pcm = concatPcm(kitchen, silence(450), weather);
    const run = async (vadPostspeechMs: number): Promise<string[]> => {
      const asr = recognizer({ workers: 1, vadPostspeechMs });
      const s = asr.stream(en, new AbortController().signal);
      const results = collect(s);
      writeAll(s, pcm);
      s.end();
      return (await results).filter((r) => r.kind === 'final').map((r) => r.text);
    };
    const [short, long] = await Promise.all([run(200), run(1000)]);
    assert.ok(short.length >= 2, `200 ms postspeech: ${JSON.stringify(short)}`);
    assert.equal(long.length, 1, `1000 ms postspeech: ${JSON.stringify(long)}`);
  });
});
