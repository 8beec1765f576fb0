/**
 * The local LLM provider on the real engine: node-llama-cpp running a tiny random-weight GGUF
 * that the test writes itself. The model says nothing sensible, so the tests check the
 * mechanics: streaming, token bounds, sampling, cancellation, sequence sharing, the event loop.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LlamaCppChatModel, toChatHistory, type LlamaCppSettings, type LlamaCppUsage } from '../../src/providers/llm/llama-cpp.js';
import { ProviderError, type ChatMessage } from '../../src/providers/types.js';
import { writeTinyGguf } from '../support/tiny-gguf.js';
import type { LlmOutput } from '../../src/providers/types.js';
import { texts } from '../support/llm-output.js';

const dir = mkdtempSync(join(tmpdir(), 'llama-cpp-test-'));
const modelPath = join(dir, 'tiny.gguf');
const models: LlamaCppChatModel[] = [];
/** Usage reports, newest last, of every model made by `model()`. */
const usages: LlamaCppUsage[] = [];

function model(extra: Partial<LlamaCppSettings> = {}): LlamaCppChatModel {
  const m = new LlamaCppChatModel({
    modelPath,
    threads: 1,
    contextSize: 4096,
    sequences: 1,
    sequenceWaitMs: 10_000,
    // Greedy unless a test asks otherwise: the same prompt gives the same reply.
    temperature: 0,
    maxTokens: 32,
    onUsage: (u) => usages.push(u),
    ...extra,
  });
  models.push(m);
  return m;
}

before(() => {
  writeTinyGguf(modelPath, { seed: 7 });
});

after(async () => {
  await Promise.all(models.map((m) => m.close()));
  rmSync(dir, { recursive: true, force: true });
});

const question: ChatMessage[] = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'what is the weather today' },
];
const live = () => new AbortController().signal;

async function collect(stream: AsyncIterable<LlmOutput>): Promise<string[]> {
  const out: string[] = [];
  for await (const t of texts(stream)) out.push(t);
  return out;
}

void describe('LlamaCppChatModel on a tiny GGUF', () => {
  let shared: LlamaCppChatModel;
  before(async () => {
    shared = model();
    await shared.warmUp();
  });

  void it('streams a reply in many chunks as the tokens are generated', async () => {
    const chunks = await collect(shared.stream(question, { maxTokens: 24 }, live()));
    assert.ok(chunks.length > 1, `streamed in ${chunks.length} chunk(s)`);
    assert.ok(chunks.every((c) => c.length > 0), 'no empty chunks');
    assert.ok(chunks.join('').length > 0);
    assert.ok(usages.at(-1)!.completionTokens <= 24);
  });

  void it('maxTokens bounds the number of tokens generated', async () => {
    await collect(shared.stream(question, { maxTokens: 5 }, live()));
    const few = usages.at(-1)!;
    await collect(shared.stream(question, { maxTokens: 40 }, live()));
    const more = usages.at(-1)!;
    // The tiny model never ends its text by itself at temperature 0 (see tiny-gguf.ts), so
    // each reply runs to its bound.
    assert.equal(few.completionTokens, 5);
    assert.equal(more.completionTokens, 40);
    // Without a per-request value, the setting (32) bounds it.
    await collect(shared.stream(question, {}, live()));
    assert.equal(usages.at(-1)!.completionTokens, 32);
  });

  void it('temperature is honoured: 0 repeats itself, a high temperature varies', async () => {
    const text = async (temperature?: number) =>
      (await collect(shared.stream(question, temperature === undefined ? { maxTokens: 20 } : { maxTokens: 20, temperature }, live()))).join('');
    // The setting is 0 (greedy): with no per-request value, the same prompt gives the same reply.
    const greedy = [await text(), await text(), await text(0)];
    assert.equal(new Set(greedy).size, 1, `greedy replies differ: ${JSON.stringify(greedy)}`);
    // 20 tokens drawn near-uniformly from ~270: three equal replies would mean no sampling.
    const hot = [await text(1.5), await text(1.5), await text(1.5)];
    assert.ok(new Set(hot).size > 1, `temperature 1.5 gave the same reply three times: ${JSON.stringify(hot)}`);
  });

  void it('takes a system prompt and a history of user and assistant turns', async () => {
    const history: ChatMessage[] = [
      { role: 'system', content: 'You are a helpful voice assistant.' },
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'Hello! How can I help?' },
      { role: 'user', content: 'is it sunny today' },
    ];
    assert.deepEqual(toChatHistory(history), [
      { type: 'system', text: 'You are a helpful voice assistant.' },
      { type: 'user', text: 'hello' },
      { type: 'model', response: ['Hello! How can I help?'] },
      { type: 'user', text: 'is it sunny today' },
    ]);
    assert.deepEqual(toChatHistory([{ role: 'assistant', content: '' }]), [{ type: 'model', response: [] }]);
    const chunks = await collect(shared.stream(history, { maxTokens: 8 }, live()));
    assert.ok(chunks.join('').length > 0);
    assert.ok(usages.at(-1)!.completionTokens <= 8);
  });

  void it('a repeated prompt is not evaluated again: the sequence keeps what it holds', async () => {
    const prompt: ChatMessage[] = [...question, { role: 'user', content: 'tell me about the weather in a few words' }];
    await collect(shared.stream([{ role: 'user', content: 'something else entirely' }], { maxTokens: 4 }, live()));
    await collect(shared.stream(prompt, { maxTokens: 4 }, live()));
    const first = usages.at(-1)!;
    await collect(shared.stream(prompt, { maxTokens: 4 }, live()));
    const again = usages.at(-1)!;
    assert.ok(first.evaluatedPromptTokens > 20, `first time: ${first.evaluatedPromptTokens} prompt tokens evaluated`);
    assert.ok(again.evaluatedPromptTokens < first.evaluatedPromptTokens / 4, `again: ${again.evaluatedPromptTokens} of ${first.evaluatedPromptTokens}`);
  });

  void it('abort stops the generation within a few tokens, quietly, and frees the sequence', async () => {
    const controller = new AbortController();
    const chunks: string[] = [];
    for await (const chunk of texts(shared.stream(question, { maxTokens: 3000 }, controller.signal))) {
      chunks.push(chunk);
      if (chunks.length === 3) controller.abort();
    }
    assert.equal(chunks.length, 3, 'nothing is yielded after the abort');
    const generated = usages.at(-1)!.completionTokens;
    assert.ok(generated < 50, `${generated} tokens were generated for a reply aborted after 3 chunks`);
    // The only sequence is free again: the next reply runs.
    const next = await collect(shared.stream(question, { maxTokens: 3 }, live()));
    assert.ok(next.length > 0);
  });

  void it('an already aborted request yields nothing and never runs', async () => {
    const before = usages.length;
    const controller = new AbortController();
    controller.abort();
    assert.deepEqual(await collect(shared.stream(question, {}, controller.signal)), []);
    assert.equal(usages.length, before);
  });

  void it('generation runs off the event loop: timers keep firing while it runs', async () => {
    const controller = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => {
      // Five ticks while the reply is being generated: enough, stop it.
      if (++ticks === 5) controller.abort();
    }, 10);
    try {
      for await (const _ of texts(shared.stream(question, { maxTokens: 3000 }, controller.signal))) {
        // only consume
      }
    } finally {
      clearInterval(timer);
    }
    // Had inference blocked the loop, the timer could not have stopped it: it would have run to
    // its 3000 tokens (several seconds) with fewer than five ticks.
    assert.ok(controller.signal.aborted, 'the timer fired five times during generation');
    assert.ok(usages.at(-1)!.completionTokens < 3000, `stopped by the timer after ${usages.at(-1)!.completionTokens} tokens`);
  });
});

void describe('LlamaCppChatModel sharing its sequences', () => {
  void it('a request waits for a busy sequence; it fails clearly after sequenceWaitMs, and abort ends the wait quietly', async () => {
    const m = model({ sequences: 1, sequenceWaitMs: 300 });
    const holder = m.stream(question, { maxTokens: 8 }, live())[Symbol.asyncIterator]();
    assert.equal((await holder.next()).done, false, 'the first reply holds the only sequence');

    await assert.rejects(collect(m.stream(question, {}, live())), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.match(err.message, /busy: all 1 sequences \(LLM_SEQUENCES\) stayed in use for 300 ms/);
      return true;
    });

    const controller = new AbortController();
    const waiting = collect(m.stream(question, {}, controller.signal));
    setTimeout(() => controller.abort(), 50);
    assert.deepEqual(await waiting, [], 'an aborted wait ends with no text and no error');

    await holder.return(undefined);
    // Released: a new request gets the sequence.
    assert.ok((await collect(m.stream(question, { maxTokens: 2 }, live()))).length > 0);
  });

  void it('two sequences generate two replies at once', async () => {
    const m = model({ sequences: 2, sequenceWaitMs: 300 });
    const a = m.stream(question, { maxTokens: 6 }, live())[Symbol.asyncIterator]();
    const b = m.stream([{ role: 'user', content: 'hello' }], { maxTokens: 6 }, live())[Symbol.asyncIterator]();
    // Both hold a sequence at the same time; with one sequence the second would time out.
    const [first, second] = await Promise.all([a.next(), b.next()]);
    assert.equal(first.done, false);
    assert.equal(second.done, false);
    await Promise.all([a.return(undefined), b.return(undefined)]);
  });
});

void describe('LlamaCppChatModel errors', () => {
  void it('a file that is not a model fails the request with a ProviderError naming the file', async () => {
    const bad = join(dir, 'not-a-model.gguf');
    writeTinyGguf(bad, { seed: 1 });
    // Cut the file short: the header promises tensors that are not there.
    const { truncateSync } = await import('node:fs');
    truncateSync(bad, 4096);
    const m = model({ modelPath: bad });
    await assert.rejects(m.warmUp(), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.kind, 'llm');
      assert.match(err.message, /Could not load the GGUF model .*not-a-model\.gguf \(LLM_MODEL_PATH\)/);
      return true;
    });
    await assert.rejects(collect(m.stream(question, {}, live())), ProviderError, 'a later request tries again and fails the same way');
  });

  void it('a context smaller than 1024 tokens is refused with the setting to change', () => {
    assert.throws(() => model({ contextSize: 512 }), /LLM_CONTEXT_SIZE 512 is too small for a chat: use 1024 or more/);
  });
});
