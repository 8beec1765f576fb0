/**
 * A scripted OpenAI-compatible server for tests: real HTTP on a real socket with real SSE framing,
 * so the client under test exercises the same code paths as against vLLM or NIM.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatMessage } from '../../src/providers/types.js';

/** The fields this double reads; the rest of what the client sent is kept as is. */
export type ChatRequestBody = {
  model?: string;
  messages: ChatMessage[];
  stream?: boolean;
  temperature?: number;
  max_tokens?: number;
  stream_options?: { include_usage?: boolean };
  [field: string]: unknown;
};

export type ScriptedRequest = { messages: ChatMessage[]; body: ChatRequestBody; headers: IncomingHttpHeaders };

/** A tool call the scripted model makes: its arguments text is streamed in fragments. */
export type ScriptedToolCall = { id?: string; name: string; arguments: string };

export type ScriptedReply =
  | string
  /** `stall`: after the tokens the reply never ends (the connection stays open until the client closes it). */
  | { tokens: string[]; stall?: boolean }
  | { reasoning: string[]; tokens: string[] }
  /**
   * Text (optional), then tool calls streamed as OpenAI streams them: the first fragment of a
   * call has index, id, type and name with empty arguments, then the arguments in fragments of
   * `argumentChunkChars` (default 3); `interleave` alternates fragments of parallel calls;
   * `finishReason` is "tool_calls" unless given (some servers say "stop").
   */
  | { tokens?: string[]; toolCalls: ScriptedToolCall[]; interleave?: boolean; argumentChunkChars?: number; finishReason?: string }
  | { status: number; headers?: Record<string, string>; body?: string };

export type ReplyScript = ScriptedReply | ((req: ScriptedRequest) => ScriptedReply);

export type ScriptedServerOptions = {
  reply?: ReplyScript;
  /** Model id reported by /v1/models and in chunks. */
  model?: string;
  tokenDelayMs?: number;
  firstTokenDelayMs?: number;
  /** Stop sending after this many content tokens but keep the connection open. */
  stallAfterTokens?: number;
  /** Send a cumulative usage on every chunk, as hosted NVIDIA NIM does. */
  usageOnEveryChunk?: boolean;
};

export type ScriptedServer = {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  requests: ScriptedRequest[];
  /** Streaming replies whose connection closed before the server finished them. */
  abortedCount(): number;
  /** Streaming replies the server sent to their end ([DONE]). */
  completedCount(): number;
  setReply(reply: ReplyScript): void;
  /** What NIM's GET /v1/health/ready answers: ready (200) or still loading (503). */
  setReady(ready: boolean): void;
  close(): Promise<void>;
};

/** The `delta`s that stream `reply`'s tool calls, in the order OpenAI sends them. */
function toolCallDeltas(reply: { toolCalls: ScriptedToolCall[]; interleave?: boolean; argumentChunkChars?: number }): object[] {
  const size = reply.argumentChunkChars ?? 3;
  const perCall = reply.toolCalls.map((call, index) => {
    const first = { tool_calls: [{ index, id: call.id ?? `call_scripted_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] };
    const rest: object[] = [];
    for (let at = 0; at < call.arguments.length; at += size) rest.push({ tool_calls: [{ index, function: { arguments: call.arguments.slice(at, at + size) } }] });
    return [first, ...rest];
  });
  if (!reply.interleave) return perCall.flat();
  const out: object[] = [];
  for (let i = 0; perCall.some((deltas) => i < deltas.length); i++) for (const deltas of perCall) if (i < deltas.length) out.push(deltas[i]!);
  return out;
}

/** Word tokens with their leading spaces kept, so that `tokensOf(t).join('') === t`. */
export function tokensOf(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

export async function startScriptedOpenAiServer(opts: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const model = opts.model ?? 'scripted-model';
  let script: ReplyScript = opts.reply ?? ((req) => `You said: ${req.messages.at(-1)?.content ?? ''}`);
  const requests: ScriptedRequest[] = [];
  let ready = true;
  let aborted = 0;
  let completed = 0;
  let chunkSeq = 0;

  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v1/health/ready') {
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ready ? { object: 'health.response', message: 'Service is ready.' } : { object: 'health.response', message: 'Service is not ready.' }));
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model' }] }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${path}` } }));
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      let body: ChatRequestBody;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8')) as ChatRequestBody;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'body is not JSON' } }));
        return;
      }
      const request: ScriptedRequest = { messages: body.messages, body, headers: req.headers };
      requests.push(request);
      const reply = typeof script === 'function' ? script(request) : script;
      void answer(res, body, reply);
    });
  });

  async function answer(res: ServerResponse, body: ChatRequestBody, reply: ScriptedReply): Promise<void> {
    if (typeof reply === 'object' && 'status' in reply) {
      res.writeHead(reply.status, reply.headers ?? { 'content-type': 'application/json' });
      res.end(reply.body ?? '');
      return;
    }
    const tokens = typeof reply === 'string' ? tokensOf(reply) : (reply.tokens ?? []);
    const reasoning = typeof reply === 'object' && 'reasoning' in reply ? reply.reasoning : [];
    const toolCalls = typeof reply === 'object' && 'toolCalls' in reply ? reply : undefined;
    let finished = false;
    let closed = false;
    const closedP = new Promise<void>((resolve) =>
      res.on('close', () => {
        closed = true;
        if (!finished) aborted++;
        resolve();
      }),
    );
    const id = `chatcmpl-scripted-${++chunkSeq}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = body.messages.reduce((n, m) => n + tokensOf(m.content ?? '').length, 0);
    let completionTokens = 0;
    const usage = () => ({ prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens });
    const send = (delta: object, finishReason: string | null = null) => {
      const chunk: Record<string, unknown> = {
        id, object: 'chat.completion.chunk', created, model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      };
      if (opts.usageOnEveryChunk) chunk.usage = usage();
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    send({ role: 'assistant', content: '' });
    const steps: object[] = [...reasoning.map((t) => ({ reasoning_content: t })), ...tokens.map((t) => ({ content: t })), ...(toolCalls ? toolCallDeltas(toolCalls) : [])];
    for (const [i, delta] of steps.entries()) {
      if (closed) return;
      if (opts.stallAfterTokens !== undefined && i >= opts.stallAfterTokens) return void (await closedP);
      const delayMs = i === 0 ? (opts.firstTokenDelayMs ?? opts.tokenDelayMs ?? 0) : (opts.tokenDelayMs ?? 0);
      if (delayMs > 0) await sleep(delayMs);
      if (closed) return;
      completionTokens++;
      send(delta);
    }
    if (typeof reply === 'object' && 'stall' in reply && reply.stall) return void (await closedP);
    send({}, toolCalls ? (toolCalls.finishReason ?? 'tool_calls') : 'stop');
    if (body.stream_options?.include_usage) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usage() })}\n\n`);
    }
    finished = true;
    completed++;
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    abortedCount: () => aborted,
    completedCount: () => completed,
    setReply: (reply) => {
      script = reply;
    },
    setReady: (value) => {
      ready = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Stalled replies would otherwise keep close() waiting forever.
        server.closeAllConnections();
      }),
  };
}
