import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimulatedRecognizer } from '../../src/providers/simulated/asr.js';
import { BUILT_IN_PROFILES } from '../../src/providers/simulated/profile.js';
import type { AsrResult } from '../../src/providers/types.js';

function sound(kind: 'voice' | 'hum' | 'noise', ms: number, RATE: number): Int16Array {
  const pcm = new Int16Array((ms * RATE) / 1000 + 0.8 * RATE); // then 800 ms of silence
  let seed = 3;
  for (let i = 0; i < (ms * RATE) / 1000; i++) {
    const t = i / RATE;
    if (kind === 'noise') {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      pcm[i] = Math.round((seed / 0x1_0000_0000 - 0.5) * 12000);
    } else if (kind === 'hum') pcm[i] = Math.round(6000 * Math.sin(2 * Math.PI * 100 * t));
    else pcm[i] = Math.round(5000 * (Math.sin(2 * Math.PI * 180 * t) + 0.5 * Math.sin(2 * Math.PI * 360 * t) + 0.25 * Math.sin(2 * Math.PI * 540 * t)));
  }
  return pcm;
}

async function recognize(pcm: Int16Array, rateHz: number): Promise<AsrResult[]> {
  const stream = new SimulatedRecognizer(BUILT_IN_PROFILES['zero-latency']!.asr).stream({ language: 'en-US', sampleRateHz: rateHz }, new AbortController().signal);
  stream.write(pcm);
  stream.end();
  const results: AsrResult[] = [];
  for await (const r of stream) results.push(r);
  return results;
}

// 8 kHz: phone audio, taken as it is (like Riva), with the same results.
for (const rateHz of [16000, 8000]) {
  test(`the simulated recognizer hears words in a voice, "mm-hmm" in a low hum and nothing in noise (${rateHz} Hz)`, async () => {
    assert.equal(new SimulatedRecognizer(BUILT_IN_PROFILES['zero-latency']!.asr).takesRate(rateHz), true);
    const voice = await recognize(sound('voice', 900, rateHz), rateHz);
    assert.equal(voice.at(-1)?.kind, 'final');
    assert.equal(voice.at(-1)?.text, 'please tell me');
    const hum = await recognize(sound('hum', 400, rateHz), rateHz);
    assert.deepEqual(hum.map((r) => r.text), ['mm-hmm', 'mm-hmm']);
    assert.equal(hum.at(-1)?.kind, 'final');
    assert.deepEqual(await recognize(sound('noise', 600, rateHz), rateHz), []);
  });
}
