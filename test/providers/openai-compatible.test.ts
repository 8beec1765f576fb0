import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  OpenAiCompatibleChatModel,
  ThinkFilter,
  parseRetryAfterS,
  type LlmUsage,
  type OpenAiCompatibleSettings,
} from '../../src/providers/llm/openai-compatible.js';
import { ProviderError, type ChatMessage, type LlmOutput } from '../../src/providers/types.js';
import {
  startScriptedOpenAiServer,
  tokensOf,
  type ScriptedServer,
  type ScriptedServerOptions,
} from '../support/scripted-openai-server.js';
import { texts } from '../support/llm-output.js';
import { waitUntil } from '../support/wait-until.js';

const servers: ScriptedServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(opts: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const s = await startScriptedOpenAiServer(opts);
  servers.push(s);
  return s;
}

function model(baseUrl: string, extra: Partial<OpenAiCompatibleSettings> = {}): OpenAiCompatibleChatModel {
  return new OpenAiCompatibleChatModel({
    baseUrl,
    model: 'test-model',
    temperature: 0.5,
    maxTokens: 128,
    requestTimeoutMs: 10_000,
    ...extra,
  });
}

async function collect(stream: AsyncIterable<LlmOutput>): Promise<string[]> {
  const out: string[] = [];
  for await (const t of texts(stream)) out.push(t);
  return out;
}


const user = (content: string): ChatMessage[] => [{ role: 'user', content }];
const signal = () => new AbortController().signal;

void describe('OpenAiCompatibleChatModel', () => {
  void it('streams the reply tokens in order and sends the expected body', async () => {
    const srv = await server({ reply: 'Hello there, how are you today?' });
    const tokens = await collect(model(srv.baseUrl).stream(user('hi'), {}, signal()));
    assert.deepEqual(tokens, tokensOf('Hello there, how are you today?'));
    const body = srv.requests[0]?.body;
    assert.ok(body);
    assert.equal(body.model, 'test-model');
    assert.equal(body.stream, true);
    assert.equal(body.temperature, 0.5);
    assert.equal(body.max_tokens, 128);
    assert.deepEqual(body.stream_options, { include_usage: true });
  });

  void it('lets per-call options override temperature and max tokens; tolerates a trailing slash', async () => {
    const srv = await server({ reply: 'ok' });
    await collect(model(`${srv.baseUrl}/`).stream(user('hi'), { temperature: 0, maxTokens: 7 }, signal()));
    assert.equal(srv.requests[0]?.body.temperature, 0);
    assert.equal(srv.requests[0]?.body.max_tokens, 7);
  });

  void it('sends the history exactly as given', async () => {
    const srv = await server();
    const history: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: 'Four.' },
      { role: 'user', content: 'And 3+3?' },
    ];
    const tokens = await collect(model(srv.baseUrl).stream(history, {}, signal()));
    assert.equal(tokens.join(''), 'You said: And 3+3?');
    assert.deepEqual(srv.requests[0]?.messages, history);
  });

  void it('never yields reasoning_content', async () => {
    const srv = await server({ reply: { reasoning: ['Let', ' me', ' think'], tokens: ['The', ' answer'] } });
    const tokens = await collect(model(srv.baseUrl).stream(user('q'), {}, signal()));
    assert.equal(tokens.join(''), 'The answer');
  });

  void it('drops <think> blocks even when the tags are split across chunks', async () => {
    const srv = await server({ reply: { tokens: ['<thi', 'nk>', 'secret', ' plan</th', 'ink>', '\n\nHello', ' <', 'b> world'] } });
    const tokens = await collect(model(srv.baseUrl).stream(user('q'), {}, signal()));
    assert.equal(tokens.join(''), 'Hello <b> world');
    assert.ok(tokens.every((t) => !t.includes('secret')));
  });

  void it('ThinkFilter keeps text that only looks like the start of a tag', () => {
    const f = new ThinkFilter();
    assert.equal(f.push('a < b and <th') + f.flush(), 'a < b and <th');
    const g = new ThinkFilter();
    assert.equal(g.push('x<think>never closed') + g.flush(), 'x');
  });

  void it('sends Authorization only when an API key is set', async () => {
    const srv = await server({ reply: 'ok' });
    await collect(model(srv.baseUrl).stream(user('a'), {}, signal()));
    await collect(model(srv.baseUrl, { apiKey: 'sekret' }).stream(user('b'), {}, signal()));
    assert.equal(srv.requests[0]?.headers.authorization, undefined);
    assert.equal(srv.requests[1]?.headers.authorization, 'Bearer sekret');
  });

  void it('stops promptly on abort mid-stream and the server sees the connection close', { timeout: 10_000 }, async () => {
    const srv = await server({ reply: 'one two three four five', stallAfterTokens: 2 });
    const ac = new AbortController();
    const tokens: string[] = [];
    for await (const t of texts(model(srv.baseUrl).stream(user('q'), {}, ac.signal))) {
      tokens.push(t);
      if (tokens.length === 2) ac.abort();
    }
    assert.deepEqual(tokens, ['one', ' two']);
    await waitUntil(() => srv.abortedCount() === 1, 'the server to see the abort');
  });

  void it('closes the connection when the consumer stops iterating early', { timeout: 10_000 }, async () => {
    const srv = await server({ reply: 'one two three four five', tokenDelayMs: 50 });
    for await (const t of texts(model(srv.baseUrl).stream(user('q'), {}, signal()))) {
      assert.equal(t, 'one');
      break;
    }
    await waitUntil(() => srv.abortedCount() === 1, 'the server to see the close');
  });

  void it('returns quietly when the signal is already aborted', async () => {
    const srv = await server({ reply: 'ok' });
    const ac = new AbortController();
    ac.abort();
    assert.deepEqual(await collect(model(srv.baseUrl).stream(user('q'), {}, ac.signal)), []);
  });

  void it('turns 429 with Retry-After into a ProviderError with retryAfterS', async () => {
    const srv = await server({ reply: { status: 429, headers: { 'retry-after': '3' }, body: '{"error":"slow down"}' } });
    await assert.rejects(collect(model(srv.baseUrl).stream(user('q'), {}, signal())), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.kind, 'llm');
      assert.equal(err.retryAfterS, 3);
      assert.match(err.message, /HTTP 429/);
      assert.match(err.message, /retry after 3 s/);
      assert.ok(err.message.includes(srv.baseUrl));
      return true;
    });
  });

  void it('parses Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfterS('12'), 12);
    assert.equal(parseRetryAfterS(null), undefined);
    assert.equal(parseRetryAfterS('soon'), undefined);
    assert.equal(parseRetryAfterS(new Date(Date.now() - 60_000).toUTCString()), 0);
    const inFuture = parseRetryAfterS(new Date(Date.now() + 120_000).toUTCString());
    assert.ok(inFuture !== undefined && inFuture > 100 && inFuture <= 120, String(inFuture));
  });

  void it('turns 500 into a ProviderError', async () => {
    const srv = await server({ reply: { status: 500, body: 'boom' } });
    await assert.rejects(collect(model(srv.baseUrl).stream(user('q'), {}, signal())), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.match(err.message, /HTTP 500.*boom/);
      assert.equal(err.retryAfterS, undefined);
      return true;
    });
  });

  void it('says the model name may be wrong on 404', async () => {
    const srv = await server({ reply: { status: 404, body: '{"error":{"message":"model not found"}}' } });
    await assert.rejects(collect(model(srv.baseUrl).stream(user('q'), {}, signal())), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.match(err.message, /HTTP 404/);
      assert.match(err.message, /"test-model"/);
      assert.match(err.message, /model not found/);
      return true;
    });
  });

  void it('gives a clear ProviderError when nothing listens at the URL', async () => {
    const srv = await startScriptedOpenAiServer();
    const { baseUrl } = srv;
    await srv.close();
    await assert.rejects(collect(model(baseUrl).stream(user('q'), {}, signal())), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.match(err.message, /Could not reach the LLM at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/);
      assert.match(err.message, /LLM_BASE_URL/);
      return true;
    });
  });

  void it('times out waiting for response headers', { timeout: 10_000 }, async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const m = model(`http://127.0.0.1:${port}/v1`, { requestTimeoutMs: 100 });
      await assert.rejects(collect(m.stream(user('q'), {}, signal())), /sent no response within 100 ms/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  void it('does not apply the request timeout to the rest of the stream', { timeout: 10_000 }, async () => {
    const srv = await server({ reply: 'slow but fine', firstTokenDelayMs: 700 });
    const tokens = await collect(model(srv.baseUrl, { requestTimeoutMs: 500 }).stream(user('q'), {}, signal()));
    assert.equal(tokens.join(''), 'slow but fine');
  });

  void it('reports the last cumulative usage once, without adding snapshots', async () => {
    const srv = await server({ reply: 'one two three', usageOnEveryChunk: true });
    const seen: LlmUsage[] = [];
    const m = model(srv.baseUrl, { onUsage: (u) => seen.push(u) });
    await collect(m.stream(user('count these words'), {}, signal()));
    assert.deepEqual(seen, [{ promptTokens: 3, completionTokens: 3 }]);
  });

  void it('throws when the stream ends without [DONE] or finish_reason', async () => {
    const chunk = { choices: [{ index: 0, delta: { content: 'partial' }, finish_reason: null }] };
    const srv = await server({
      reply: { status: 200, headers: { 'content-type': 'text/event-stream' }, body: `data: ${JSON.stringify(chunk)}\n\n` },
    });
    const got: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const t of texts(model(srv.baseUrl).stream(user('q'), {}, signal()))) got.push(t);
      })(),
      (err: unknown) => err instanceof ProviderError && /LLM stream ended early/.test(err.message),
    );
    assert.deepEqual(got, ['partial']);
  });

  void it('throws a clear ProviderError on malformed JSON in an event', async () => {
    const srv = await server({
      reply: { status: 200, headers: { 'content-type': 'text/event-stream' }, body: 'data: {not json\n\ndata: [DONE]\n\n' },
    });
    await assert.rejects(
      collect(model(srv.baseUrl).stream(user('q'), {}, signal())),
      (err: unknown) => err instanceof ProviderError && /malformed JSON.*\{not json/.test(err.message),
    );
  });

  void it('surfaces an error event sent mid-stream', async () => {
    const srv = await server({
      reply: {
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: 'data: {"error":{"message":"out of KV cache"}}\n\ndata: [DONE]\n\n',
      },
    });
    await assert.rejects(
      collect(model(srv.baseUrl).stream(user('q'), {}, signal())),
      (err: unknown) => err instanceof ProviderError && /out of KV cache/.test(err.message),
    );
  });

  void it('says which failures may work if tried again unchanged (ProviderError.retryable)', async () => {
    const cases = [
      { status: 429, retryable: true },
      { status: 500, retryable: true },
      { status: 503, retryable: true },
      { status: 400, retryable: false },
      { status: 401, retryable: false },
      { status: 404, retryable: false },
    ];
    for (const { status, retryable } of cases) {
      const srv = await server({ reply: { status, body: '{"error":"no"}' } });
      await assert.rejects(collect(model(srv.baseUrl).stream(user('q'), {}, signal())), (err: unknown) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.retryable, retryable, `HTTP ${status}`);
        return true;
      });
    }
    const gone = await startScriptedOpenAiServer();
    await gone.close();
    await assert.rejects(collect(model(gone.baseUrl).stream(user('q'), {}, signal())), (err: unknown) => err instanceof ProviderError && err.retryable);
  });
});
