import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimulatedChatModel } from '../../src/providers/simulated/llm.js';
import { BUILT_IN_PROFILES } from '../../src/providers/simulated/profile.js';
import { SimulatedSynthesizer } from '../../src/providers/simulated/tts.js';

const base = BUILT_IN_PROFILES['zero-latency']!;

test('simulated providers with ignoresAbort go on after their request is aborted; without it they stop', async () => {
  for (const ignoresAbort of [true, false]) {
    const controller = new AbortController();
    controller.abort();
    const tokens: string[] = [];
    for await (const t of new SimulatedChatModel({ ...base.llm, ignoresAbort }).stream([{ role: 'user', content: 'hi' }], {}, controller.signal)) if (t.type === 'text') tokens.push(t.text);
    let chunks = 0;
    for await (const _ of new SimulatedSynthesizer({ ...base.tts, ignoresAbort }).stream('Hello there, friend.', { voice: '', language: 'en', sampleRateHz: 16000 }, controller.signal)) chunks++;
    if (ignoresAbort) {
      assert.equal(tokens.length, base.llm.replyWords);
      assert.ok(chunks > 5, `${chunks} chunks`);
    } else {
      assert.deepEqual([tokens.length, chunks], [0, 0]);
    }
  }
});
