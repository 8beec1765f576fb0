/**
 * Tool calls over the OpenAI wire protocol against a scripted server that streams `delta.tool_calls`
 * as OpenAI, NIM and vLLM do (real HTTP and SSE): the request carries `tools` and `tool_choice`,
 * calls are assembled by index from argument fragments, several per reply, text before a call comes
 * first, and a continuation sends the assistant message with its calls and one `tool` message each.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { OpenAiCompatibleChatModel, type OpenAiCompatibleSettings } from '../../src/providers/llm/openai-compatible.js';
import { ProviderError, type ChatMessage, type ToolSpec } from '../../src/providers/types.js';
import { outputs } from '../support/llm-output.js';
import { startScriptedOpenAiServer, type ScriptedServer, type ScriptedServerOptions } from '../support/scripted-openai-server.js';

const servers: ScriptedServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function server(opts: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const s = await startScriptedOpenAiServer(opts);
  servers.push(s);
  return s;
}

function model(baseUrl: string, extra: Partial<OpenAiCompatibleSettings> = {}): OpenAiCompatibleChatModel {
  return new OpenAiCompatibleChatModel({ baseUrl, model: 'test-model', temperature: 0.5, maxTokens: 128, requestTimeoutMs: 10_000, ...extra });
}

const WEATHER: ToolSpec = {
  name: 'get_weather',
  description: 'The weather in a city now',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const TIME: ToolSpec = { name: 'get_time', description: 'The time now', parameters: { type: 'object', properties: {} } };
const ask: ChatMessage[] = [{ role: 'user', content: 'weather in Oslo and the time?' }];
const live = () => new AbortController().signal;

void describe('OpenAI-compatible tool calls', () => {
  void it('sends tools and tool_choice in the Chat Completions shape; none at all without tools', async () => {
    const srv = await server({ reply: 'ok' });
    await outputs(model(srv.baseUrl).stream(ask, { tools: [WEATHER], toolChoice: { name: 'get_weather' } }, live()));
    const body = srv.requests[0]!.body;
    assert.deepEqual(body.tools, [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city now', parameters: WEATHER.parameters } }]);
    assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'get_weather' } });
    await outputs(model(srv.baseUrl).stream(ask, { tools: [WEATHER] }, live()));
    assert.equal(srv.requests[1]!.body.tool_choice, 'auto');
    await outputs(model(srv.baseUrl).stream(ask, {}, live()));
    assert.equal('tools' in srv.requests[2]!.body, false);
    assert.equal('tool_choice' in srv.requests[2]!.body, false);
  });

  void it('assembles two calls from argument fragments, after the text spoken before them', async () => {
    const srv = await server({
      reply: {
        tokens: ['Let', ' me', ' check.'],
        toolCalls: [
          { id: 'call_w', name: 'get_weather', arguments: '{"city": "Oslo"}' },
          { id: 'call_t', name: 'get_time', arguments: '{}' },
        ],
        argumentChunkChars: 2,
      },
    });
    const got = await outputs(model(srv.baseUrl).stream(ask, { tools: [WEATHER, TIME] }, live()));
    assert.equal(got.text.join(''), 'Let me check.');
    assert.deepEqual(got.order, ['text', 'text', 'text', 'tool_call', 'tool_call']);
    assert.deepEqual(got.calls, [
      { id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' } },
      { id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
  });

  void it('fragments of parallel calls interleaved by index still land on their own call', async () => {
    const srv = await server({
      reply: {
        toolCalls: [
          { id: 'a', name: 'get_weather', arguments: '{"city": "Oslo"}' },
          { id: 'b', name: 'get_weather', arguments: '{"city": "Lima"}' },
        ],
        interleave: true,
        argumentChunkChars: 1,
      },
    });
    const got = await outputs(model(srv.baseUrl).stream(ask, { tools: [WEATHER] }, live()));
    assert.deepEqual(
      got.calls.map((c) => [c.id, JSON.parse(c.function.arguments) as unknown]),
      [['a', { city: 'Oslo' }], ['b', { city: 'Lima' }]],
    );
    assert.deepEqual(got.text, []);
  });

  void it('hands malformed arguments over as written (the core answers them) and takes finish_reason "stop" too', async () => {
    const srv = await server({ reply: { toolCalls: [{ id: 'c', name: 'get_weather', arguments: '{"city": Oslo' }], finishReason: 'stop' } });
    const got = await outputs(model(srv.baseUrl).stream(ask, { tools: [WEATHER] }, live()));
    assert.deepEqual(got.calls, [{ id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{"city": Oslo' } }]);
  });

  void it('a continuation carries the assistant message with its calls (content null) and one tool message per call', async () => {
    const srv = await server({ reply: 'It is 12 degrees in Oslo.' });
    const history: ChatMessage[] = [
      ...ask,
      { role: 'assistant', content: '', tool_calls: [{ id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_w', content: '12 degrees, cloudy' },
    ];
    const got = await outputs(model(srv.baseUrl).stream(history, { tools: [WEATHER] }, live()));
    assert.equal(got.text.join(''), 'It is 12 degrees in Oslo.');
    assert.deepEqual(srv.requests[0]!.body.messages.slice(1), [
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_w', content: '12 degrees, cloudy' },
    ]);
  });

  void it('arguments past the bound fail the reply with a ProviderError', async () => {
    const srv = await server({ reply: { toolCalls: [{ name: 'get_weather', arguments: `{"city": "${'x'.repeat(200)}"}` }] } });
    await assert.rejects(outputs(model(srv.baseUrl, { toolArgumentsMaxChars: 100 }).stream(ask, { tools: [WEATHER] }, live())), (err: unknown) => {
      assert.ok(err instanceof ProviderError && /tool calls out of bounds: .*passed 100 characters/.test(err.message), String(err));
      return true;
    });
  });
});
