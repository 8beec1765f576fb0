/**
 * A local LLM: a GGUF model run in-process by node-llama-cpp (llama.cpp's prebuilt CPU binary).
 *
 * Shape, and why:
 * - The model is loaded on first use (or by `warmUp()` at start) and shared by every session.
 * - One context with `sequences` sequences, pooled: node-llama-cpp decodes all busy sequences
 *   of a context together in one batch on the context's threads, so N concurrent replies cost
 *   one evaluation loop, where N contexts would each run their own threads and fight over the
 *   cores (on the 2-core test machine, 2 threads for one evaluation were measured 30x slower
 *   than 1). Each sequence holds `contextSize` tokens of KV cache, so memory is bounded by
 *   `sequences x contextSize`; a request that finds every sequence busy waits at most
 *   `sequenceWaitMs`.
 * - Sequences are kept between requests (not disposed): LlamaChat compares the new prompt with
 *   the tokens the sequence already holds and evaluates only the part that differs, so the
 *   next turn of a conversation (same system prompt, same earlier turns) skips most of its
 *   prompt when it lands on the sequence it used before (the pool hands out the last freed).
 * - Inference runs in llama.cpp's native threads; the event loop only receives tokens.
 */
import { randomInt } from 'node:crypto';
import { basename } from 'node:path';
import {
  getLlama,
  LlamaChat,
  LlamaLogLevel,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
} from 'node-llama-cpp';
import { AsyncQueue } from '../../lib/async-queue.js';
import { ProviderError, type ChatMessage, type ChatModel, type LlmOptions, type LlmOutput } from '../types.js';
import { chatFunctions, toChatHistory, toToolCalls } from './llama-cpp-history.js';
import { SlotPool, SlotWaitTimeoutError } from './slot-pool.js';

export { toChatHistory };

export type LlamaCppUsage = {
  /** Prompt tokens evaluated for this reply (a prefix the sequence already held is not counted). */
  evaluatedPromptTokens: number;
  /** Tokens generated, thoughts included: what `maxTokens` bounds. */
  completionTokens: number;
};

export interface LlamaCppSettings {
  /** A GGUF file (see model-cache.ts for how it is found and checked). */
  modelPath: string;
  /** Threads of one evaluation. 1 unless the machine has cores to spare (see above). */
  threads: number;
  /** Tokens one conversation can hold (prompt and reply); older turns are shifted out past it. */
  contextSize: number;
  /** Replies generated at once; more wait for a free sequence. */
  sequences: number;
  /** Longest wait (ms) for a free sequence before the request fails. */
  sequenceWaitMs: number;
  temperature: number;
  maxTokens: number;
  /** Called once per reply that ran, aborted or not. */
  onUsage?: (usage: LlamaCppUsage) => void;
}

type Loaded = { llama: Llama; model: LlamaModel; context: LlamaContext; pool: SlotPool<Slot> };
type Slot = { sequence: LlamaContextSequence; chat: LlamaChat };

export class LlamaCppChatModel implements ChatModel {
  private loading: Promise<Loaded> | undefined;
  private closed = false;

  constructor(private readonly settings: LlamaCppSettings) {
    if (settings.contextSize < 1024) {
      // Measured: chat wrappers' own framing overflows small contexts ("Failed to compress chat history").
      throw new ProviderError('llm', `LLM_CONTEXT_SIZE ${settings.contextSize} is too small for a chat: use 1024 or more`);
    }
  }

  /** Loads the model and its context now, so that the first reply does not wait for it. */
  async warmUp(): Promise<void> {
    await this.load();
  }

  /** Ends quietly (no error, no more text) when `signal` aborts; the caller knows why. */
  async *stream(messages: ChatMessage[], opts: LlmOptions, signal: AbortSignal): AsyncGenerator<LlmOutput> {
    if (signal.aborted) return;
    const { pool } = await this.load();
    let slot: Slot | undefined;
    try {
      slot = await pool.acquire(signal);
    } catch (err) {
      if (err instanceof SlotWaitTimeoutError) {
        throw new ProviderError('llm', `The local model is busy: all ${this.settings.sequences} sequences (LLM_SEQUENCES) stayed in use for ${this.settings.sequenceWaitMs} ms (LLM_REQUEST_TIMEOUT_MS)`, { retryable: true });
      }
      throw this.failure('could not open a context sequence', err);
    }
    if (!slot) return; // aborted while waiting

    const local = new AbortController();
    const onAbort = () => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    // Unbounded, but a reply is at most maxTokens chunks long.
    const chunks = new AsyncQueue<LlmOutput>();
    // Tools go through node-llama-cpp's own function calling: the chat wrapper of the model
    // describes them in its prompt format and, once the model starts a call, a grammar holds it to
    // the tool's parameters. The call ends the generation (stopReason "functionCalls"); the core
    // runs it and sends the result in the next request.
    const functions = chatFunctions(opts.tools, opts.toolChoice);
    const meterBefore = slot.sequence.tokenMeter.getState();
    let completionTokens = 0;
    let broken = false;
    const generation = slot.chat
      .generateResponse(toChatHistory(messages), {
        signal: local.signal,
        stopOnAbortSignal: true,
        maxTokens: opts.maxTokens ?? this.settings.maxTokens,
        temperature: opts.temperature ?? this.settings.temperature,
        // node-llama-cpp's default seed is the current second: replies sampled within the same
        // second would all be the same.
        seed: randomInt(2 ** 31),
        ...(functions ? { functions } : {}),
        onResponseChunk: (chunk) => {
          completionTokens += chunk.tokens.length;
          // Segments (a reasoning model's thoughts) are never spoken.
          if (chunk.type === undefined && chunk.text) chunks.push({ type: 'text', text: chunk.text });
        },
      })
      .then(
        (result) => {
          if (!local.signal.aborted && result.functionCalls?.length) {
            for (const call of toToolCalls(result.functionCalls, opts.tools ?? [])) chunks.push({ type: 'tool_call', call });
          }
          chunks.end();
        },
        (err: unknown) => {
          // Aborted before the first token: node-llama-cpp throws the abort reason.
          if (local.signal.aborted) return chunks.end();
          broken = true;
          chunks.fail(this.failure('failed while generating', err));
        },
      );

    try {
      for await (const out of chunks) {
        if (signal.aborted) return;
        yield out;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      local.abort();
      // The sequence is busy until the native evaluation has returned; after abort that is at
      // most one token away.
      await generation;
      const meter = slot.sequence.tokenMeter.diff(meterBefore);
      this.settings.onUsage?.({ evaluatedPromptTokens: meter.usedInputTokens, completionTokens });
      if (broken || this.closed) {
        slot.chat.dispose({ disposeSequence: true });
        pool.discard();
      } else {
        pool.release(slot);
      }
    }
  }

  /** Frees the model's memory. Replies still running end with an error. */
  async close(): Promise<void> {
    this.closed = true;
    const loading = this.loading;
    this.loading = undefined;
    if (!loading) return;
    const loaded = await loading.catch(() => undefined);
    if (!loaded) return;
    for (const slot of loaded.pool.drainFree()) slot.chat.dispose({ disposeSequence: true });
    await loaded.context.dispose();
    await loaded.model.dispose();
    await loaded.llama.dispose();
  }

  private load(): Promise<Loaded> {
    if (this.closed) return Promise.reject(new ProviderError('llm', 'The local model was closed'));
    // A failed load is forgotten, so that the next request tries again (and says why again).
    this.loading ??= this.loadOnce().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async loadOnce(): Promise<Loaded> {
    const s = this.settings;
    let llama: Llama;
    try {
      // CPU only, and never a source build at run time: the prebuilt binary or nothing.
      llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    } catch (err) {
      throw new ProviderError('llm', `node-llama-cpp has no usable prebuilt binary on this machine (${describe(err)}); use an OpenAI-compatible server instead: LLM_BASE_URL=http://host:port/v1`);
    }
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: s.modelPath });
    } catch (err) {
      await llama.dispose();
      throw new ProviderError('llm', `Could not load the GGUF model ${s.modelPath} (LLM_MODEL_PATH): ${describe(err)}`);
    }
    let context: LlamaContext;
    try {
      context = await model.createContext({ contextSize: s.contextSize, sequences: s.sequences, threads: s.threads });
    } catch (err) {
      await model.dispose();
      await llama.dispose();
      throw new ProviderError('llm', `Could not make a context of ${s.contextSize} tokens x ${s.sequences} sequences for ${basename(s.modelPath)}: ${describe(err)}; lower LLM_CONTEXT_SIZE or LLM_SEQUENCES`);
    }
    const pool = new SlotPool<Slot>(
      s.sequences,
      () => {
        const sequence = context.getSequence();
        return { sequence, chat: new LlamaChat({ contextSequence: sequence }) };
      },
      s.sequenceWaitMs,
    );
    return { llama, model, context, pool };
  }

  private failure(what: string, err: unknown): ProviderError {
    return new ProviderError('llm', `The local model ${basename(this.settings.modelPath)} ${what}: ${describe(err)}`);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
