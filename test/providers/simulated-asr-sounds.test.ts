import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimulatedRecognizer } from '../../src/providers/simulated/asr.js';
import { BUILT_IN_PROFILES } from '../../src/providers/simulated/profile.js';
import type { AsrResult } from '../../src/providers/types.js';

const RATE = 16000;

function sound(kind: 'voice' | 'hum' | 'noise', ms: number): Int16Array {
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

async function recognize(pcm: Int16Array): Promise<AsrResult[]> {
  const stream = new SimulatedRecognizer(BUILT_IN_PROFILES['zero-latency']!.asr).stream({ language: 'en-US', sampleRateHz: RATE }, new AbortController().signal);
  stream.write(pcm);
  stream.end();
  const results: AsrResult[] = [];
  for await (const r of stream) results.push(r);
  return results;
}

test('the simulated recognizer hears words in a voice, "mm-hmm" in a low hum and nothing in noise', async () => {
  const voice = await recognize(sound('voice', 900));
  assert.equal(voice.at(-1)?.kind, 'final');
  assert.equal(voice.at(-1)?.text, 'please tell me');
  const hum = await recognize(sound('hum', 400));
  assert.deepEqual(hum.map((r) => r.text), ['mm-hmm', 'mm-hmm']);
  assert.equal(hum.at(-1)?.kind, 'final');
  assert.deepEqual(await recognize(sound('noise', 600)), []);
});
