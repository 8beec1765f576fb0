import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { wordStarts } from '../../src/core/word-timeline.js';
import { EspeakSynthesizer } from '../../src/providers/tts/espeak.js';
import { SimulatedSynthesizer, simulatedSpeechMs } from '../../src/providers/simulated/tts.js';
import { BUILT_IN_PROFILES } from '../../src/providers/simulated/profile.js';
import type { SpeechSynthesizer, TtsOptions, WordTiming } from '../../src/providers/types.js';

const OPTS: TtsOptions = { voice: 'en-us', language: 'en-US', sampleRateHz: 16000 };

/** Every word timing of a synthesis, with the audio position (ms) of the chunk it came with. */
async function collect(tts: SpeechSynthesizer, text: string): Promise<{ words: Array<WordTiming & { chunkAtMs: number }>; audioMs: number }> {
  const words: Array<WordTiming & { chunkAtMs: number }> = [];
  let audioMs = 0;
  for await (const chunk of tts.stream(text, OPTS, new AbortController().signal)) {
    for (const w of chunk.words ?? []) words.push({ ...w, chunkAtMs: audioMs });
    audioMs += (chunk.pcm.length * 1000) / chunk.sampleRateHz;
  }
  return { words, audioMs };
}

describe('TTS word timings', () => {
  test('espeak-ng reports every word, in order, inside the audio, with the chunk that holds its start', async () => {
    const tts = new EspeakSynthesizer();
    const text = 'The weather today is sunny, with a light breeze. Tomorrow brings rain.';
    const { words, audioMs } = await collect(tts, text);
    // espeak also sends one stray event at the sentence break (pointing back into the text); the
    // core's placement (word-timeline.ts) skips it, and every word of the text gets its start.
    assert.ok(words.length >= 12, `${words.length} word events`);
    const starts = wordStarts(text, words);
    assert.equal(starts.length, 12);
    assert.ok(starts.every((s, i) => s !== undefined && (i === 0 || s > starts[i - 1]!)), `increasing: ${starts.join(', ')}`);
    assert.ok(starts.at(-1)! < audioMs, `last word at ${starts.at(-1)} ms of ${audioMs} ms`);
    // 175 words a minute: the 13 words take several seconds, and "Tomorrow" comes after the sentence pause.
    assert.ok(starts.at(-1)! > 2500, `${starts.at(-1)}`);
    for (const w of words) assert.ok(w.startMs >= w.chunkAtMs - 150 && w.startMs < w.chunkAtMs + 400, `"${text.slice(w.textOffset, w.textOffset + w.textLength)}" at ${w.startMs} ms came with audio at ${w.chunkAtMs} ms`);
  });

  test('the simulated voice places each word at its first character times msPerChar', async () => {
    const profile = { ...BUILT_IN_PROFILES['zero-latency']!.tts, chunkMs: 100, msPerChar: 50 };
    const tts = new SimulatedSynthesizer(profile);
    const text = 'Sure, happy to help you today.';
    const { words, audioMs } = await collect(tts, text);
    assert.equal(audioMs, simulatedSpeechMs(profile, text));
    assert.deepEqual(
      words.map((w) => [text.slice(w.textOffset, w.textOffset + w.textLength), w.startMs]),
      [['Sure,', 0], ['happy', 300], ['to', 600], ['help', 750], ['you', 1000], ['today.', 1200]],
    );
    for (const w of words) assert.ok(w.startMs >= w.chunkAtMs && w.startMs < w.chunkAtMs + 100, 'each word comes with the chunk its audio starts in');
  });
});
