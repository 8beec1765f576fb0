/**
 * Streaming chat completions over the OpenAI wire protocol (NVIDIA NIM, vLLM, Ollama, llama.cpp
 * server, OpenAI). Reply text and tool calls are yielded: `reasoning_content` and `<think>` blocks
 * are dropped; tool calls are assembled from their streamed fragments (./tool-call-deltas.ts).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ProviderError, type ChatMessage, type ChatModel, type LlmOptions, type LlmOutput, type ToolChoice } from '../types.js';
import { ToolCallAssembler, type ToolCallDelta } from './tool-call-deltas.js';

export type LlmUsage = { promptTokens: number; completionTokens: number };

export type OpenAiCompatibleSettings = {
  /** e.g. `http://host:8000/v1`; `/chat/completions` is appended. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  temperature: number;
  maxTokens: number;
  /** Limit on the wait for the response headers only: a long reply may stream for longer. */
  requestTimeoutMs: number;
  /** A stream that sends nothing this long after its headers has stalled and fails (0 or unset: no limit). */
  streamIdleTimeoutMs?: number;
  /** Called once per reply with the last usage the server reported. */
  onUsage?: (usage: LlmUsage) => void;
  /** Longest arguments text (chars) of one tool call; a stream past it fails. */
  toolArgumentsMaxChars?: number;
};

type CompletionChunk = {
  choices?: Array<{ delta?: { content?: string | null; tool_calls?: ToolCallDelta[] | null }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
};

export class OpenAiCompatibleChatModel implements ChatModel {
  private readonly url: string;

  constructor(private readonly settings: OpenAiCompatibleSettings) {
    this.url = `${settings.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  /** Ends quietly (no error, no more text) when `signal` aborts; the caller knows why. */
  async *stream(messages: ChatMessage[], opts: LlmOptions, signal: AbortSignal): AsyncGenerator<LlmOutput> {
    const s = this.settings;
    // Our own controller also closes the socket when the consumer stops iterating early.
    const local = new AbortController();
    let timedOut = false;
    const headersTimer = setTimeout(() => {
      timedOut = true;
      local.abort();
    }, s.requestTimeoutMs);
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(s.apiKey ? { authorization: `Bearer ${s.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: s.model,
          messages: messages.map(wireMessage),
          stream: true,
          temperature: opts.temperature ?? s.temperature,
          max_tokens: opts.maxTokens ?? s.maxTokens,
          stream_options: { include_usage: true },
          ...toolFields(opts),
        }),
        signal: AbortSignal.any([signal, local.signal]),
      });
    } catch (err) {
      if (signal.aborted) return;
      if (timedOut) {
        throw new ProviderError('llm', `LLM server at ${this.url} sent no response within ${s.requestTimeoutMs} ms (LLM_REQUEST_TIMEOUT_MS); it may be overloaded or still loading the model`, { retryable: true });
      }
      throw new ProviderError('llm', `Could not reach the LLM at ${this.url} (${describeCause(err)}); check LLM_BASE_URL and that the server is running`, { retryable: true });
    } finally {
      clearTimeout(headersTimer);
    }

    let usage: LlmUsage | undefined;
    try {
      if (!response.ok) throw await httpError(response, this.url, s.model);
      if (!response.body) throw new ProviderError('llm', `LLM server at ${this.url} answered with an empty body`);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const events: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (e) => events.push(e) });
      const think = new ThinkFilter();
      const calls = new ToolCallAssembler(s.toolArgumentsMaxChars ?? DEFAULT_TOOL_ARGUMENTS_MAX_CHARS);
      let sawDone = false;
      let sawFinish = false;
      while (!sawDone) {
        const { done, value } = await this.readWithin(reader);
        if (signal.aborted) return;
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
        for (const event of events.splice(0)) {
          if (event.data.trim() === '[DONE]') {
            sawDone = true;
            break;
          }
          const chunk = this.parseChunk(event.data);
          // Hosted NIM repeats a cumulative usage on every chunk: the last one is the total.
          if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens ?? 0, completionTokens: chunk.usage.completion_tokens ?? 0 };
          const choice = chunk.choices?.[0];
          if (choice?.finish_reason) sawFinish = true;
          const text = choice?.delta?.content ? think.push(choice.delta.content) : '';
          if (text) yield { type: 'text', text };
          if (choice?.delta?.tool_calls) this.pushToolCalls(calls, choice.delta.tool_calls);
        }
      }
      if (!sawDone && !sawFinish) {
        throw new ProviderError('llm', `LLM stream ended early: the server at ${this.url} closed the connection before finishing the reply`, { retryable: true });
      }
      const rest = think.flush();
      if (rest) yield { type: 'text', text: rest };
      for (const call of calls.finish()) yield { type: 'tool_call', call };
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ProviderError) throw err;
      throw new ProviderError('llm', `LLM stream from ${this.url} broke: ${describeCause(err)}`, { retryable: true });
    } finally {
      local.abort();
      if (usage) s.onUsage?.(usage);
    }
  }

  private pushToolCalls(calls: ToolCallAssembler, deltas: ToolCallDelta[]): void {
    try {
      calls.push(deltas);
    } catch (err) {
      throw new ProviderError('llm', `LLM server at ${this.url} sent tool calls out of bounds: ${describeCause(err)}`);
    }
  }

  /** The next bytes of the stream, or a ProviderError when none come within the idle limit. */
  private async readWithin(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>> {
    const limitMs = this.settings.streamIdleTimeoutMs;
    if (!limitMs) return reader.read();
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ProviderError('llm', `LLM stream from ${this.url} stalled: nothing came for ${limitMs} ms (LLM_STREAM_IDLE_TIMEOUT_MS); the server may be overloaded`, { retryable: true })),
        limitMs,
      );
    });
    try {
      return await Promise.race([reader.read(), stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  private parseChunk(data: string): CompletionChunk {
    let chunk: CompletionChunk;
    try {
      chunk = JSON.parse(data) as CompletionChunk;
    } catch {
      throw new ProviderError('llm', `LLM server at ${this.url} sent malformed JSON in its event stream: ${data.slice(0, 200)}`);
    }
    // vLLM and others report failures after the 200 as an `error` event in the stream.
    if (chunk.error) {
      const detail = typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? JSON.stringify(chunk.error));
      throw new ProviderError('llm', `LLM server at ${this.url} reported an error mid-stream: ${detail.slice(0, 300)}`, { retryable: true });
    }
    return chunk;
  }
}

const DEFAULT_TOOL_ARGUMENTS_MAX_CHARS = 65536;

/** Our message on the wire: an assistant message that only called tools says so with `content: null`. */
function wireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'assistant' && m.tool_calls?.length) return { role: 'assistant', content: m.content || null, tool_calls: m.tool_calls };
  return m;
}

/** `tools` and `tool_choice` as Chat Completions takes them; nothing when the request has no tools. */
function toolFields(opts: LlmOptions): Record<string, unknown> {
  if (!opts.tools?.length) return {};
  const tools = opts.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  return { tools, tool_choice: wireToolChoice(opts.toolChoice ?? 'auto') };
}

function wireToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

async function httpError(res: Response, url: string, model: string): Promise<ProviderError> {
  const bodyText = (await res.text().catch(() => '')).slice(0, 300);
  const what = `LLM server at ${url} answered HTTP ${res.status}`;
  const detail = bodyText ? `: ${bodyText}` : '';
  if (res.status === 429 || res.status >= 500) {
    const retryAfterS = parseRetryAfterS(res.headers.get('retry-after'));
    const why = res.status === 429 ? ' (rate limited)' : ' (server error)';
    const wait = retryAfterS === undefined ? '' : `; retry after ${retryAfterS} s`;
    return new ProviderError('llm', `${what}${why}${wait}${detail}`, { retryable: true, retryAfterS });
  }
  const hints: Record<number, string> = {
    401: '; check LLM_API_KEY',
    403: '; check LLM_API_KEY and its permissions',
    404: `; the model name "${model}" (LLM_MODEL) or LLM_BASE_URL may be wrong`,
  };
  return new ProviderError('llm', `${what}${hints[res.status] ?? ''}${detail}`);
}

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfterS(value: string | null): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const atMs = Date.parse(text);
  return Number.isNaN(atMs) ? undefined : Math.max(0, Math.ceil((atMs - Date.now()) / 1000));
}

/** fetch hides the useful part (ECONNREFUSED, ENOTFOUND...) in `cause`. */
function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

const OPEN_TAG = '<think>';
const CLOSE_TAG = '</think>';

/** Drops `<think>...</think>`; a tail that could still become a tag is held until the next chunk. */
export class ThinkFilter {
  private inThink = false;
  private held = '';
  // Models put a blank line after `</think>`; speaking it would only add a pause.
  private trimLeading = false;

  push(chunk: string): string {
    let text = this.held + chunk;
    let out = '';
    for (;;) {
      const tag = this.inThink ? CLOSE_TAG : OPEN_TAG;
      const at = text.indexOf(tag);
      const heldChars = at >= 0 ? 0 : partialTagChars(text, tag);
      const end = at >= 0 ? at : text.length - heldChars;
      if (!this.inThink) out += this.emit(text.slice(0, end));
      if (at < 0) {
        this.held = text.slice(end);
        return out;
      }
      text = text.slice(at + tag.length);
      this.inThink = !this.inThink;
      if (!this.inThink) this.trimLeading = true;
    }
  }

  flush(): string {
    const rest = this.inThink ? '' : this.emit(this.held);
    this.held = '';
    return rest;
  }

  private emit(text: string): string {
    if (!this.trimLeading) return text;
    const trimmed = text.trimStart();
    if (trimmed) this.trimLeading = false;
    return trimmed;
  }
}

/** Length of the longest end of `text` that is a proper start of `tag`. */
function partialTagChars(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (tag.startsWith(text.slice(-n))) return n;
  }
  return 0;
}
