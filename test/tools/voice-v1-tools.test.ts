/**
 * Tools over voice.v1 on a real gateway process: a client declares a tool in `start`, gets
 * `tool_call`, answers `tool_result`, and the reply goes on, over gRPC and over the WebSocket;
 * a server tool from the MCP server shows as `tool_activity`; bad declarations and results get
 * clear errors and the session goes on; /metrics counts the calls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { openConverse } from '../support/grpc-call.js';
import { scrape } from '../support/prometheus-text.js';
import type { ScriptedRequest } from '../support/scripted-openai-server.js';
import { nextGrpc, startToolGateway, type ToolGateway } from '../support/tool-gateway.js';
import { connectVoiceWs } from '../support/voice-ws-client.js';

const WEATHER = {
  name: 'get_weather',
  description: 'The weather now in a city',
  parametersJson: JSON.stringify({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
};

/** The model: weather questions call the client's tool, order questions the MCP server's; results get a sentence. */
function model(req: ScriptedRequest) {
  const last = req.messages.at(-1)!;
  if (last.role === 'tool') return `Here you go: ${last.content}`;
  const asked = last.content ?? '';
  if (/order/.test(asked)) return { tokens: ['One moment. '], toolCalls: [{ id: 'call_order', name: 'lookup_order', arguments: JSON.stringify({ order_id: '1001' }) }] };
  if (/weather/.test(asked)) return { tokens: ['Let me look. '], toolCalls: [{ id: `call_w${req.messages.length}`, name: 'get_weather', arguments: '{"city": "Oslo"}' }] };
  return 'Hello.';
}

let g: ToolGateway;
before(async () => {
  g = await startToolGateway(model);
});
after(() => g.stop());

const start = (tools = [WEATHER]) => ({ case: 'start' as const, value: { settings: { tools: { tools } } } });

void describe('voice.v1 tools', () => {
  void it('gRPC: a call pending when the connection drops is sent again on resume, and its result goes on in the same reply', async () => {
    const c = openConverse(g.gateway.grpcAddress);
    c.send(start());
    const ready = await nextGrpc(c, 'ready');
    c.send({ case: 'text', value: { text: 'what is the weather in Bergen?' } });
    const lost = await nextGrpc(c, 'toolCall');
    c.call.cancel(); // the connection goes before the client answered
    await c.status;
    c.client.close();
    const back = openConverse(g.gateway.grpcAddress);
    back.send({ case: 'start', value: { resumeToken: ready.resumeToken } });
    assert.ok((await nextGrpc(back, 'ready')).resumed);
    const again = await nextGrpc(back, 'toolCall');
    assert.deepEqual([again.callId, again.responseId, again.name, again.argumentsJson], [lost.callId, lost.responseId, lost.name, lost.argumentsJson], 'the same call, asked again');
    back.send({ case: 'toolResult', value: { callId: again.callId, output: 'windy' } });
    const done = await nextGrpc(back, 'responseDone');
    assert.equal(done.status, pb.ResponseStatus.COMPLETED);
    assert.equal(done.responseId, lost.responseId, 'the reply that made the call goes on');
    assert.match(done.heardText, /Here you go: windy$/);
    back.close();
  });

  void it('gRPC: a client tool round trip, the reply goes on in the same reply', async () => {
    const c = openConverse(g.gateway.grpcAddress);
    c.send(start());
    const ready = await nextGrpc(c, 'ready');
    assert.deepEqual(ready.settings?.tools?.tools.map((t) => t.name), ['get_weather'], 'ready shows the declared tools');
    c.send({ case: 'text', value: { text: 'what is the weather in Oslo?' } });
    const toolCall = await nextGrpc(c, 'toolCall');
    assert.equal(toolCall.name, 'get_weather');
    assert.deepEqual(JSON.parse(toolCall.argumentsJson), { city: 'Oslo' });
    c.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'sunny, 21 C' } });
    const done = await nextGrpc(c, 'responseDone');
    assert.equal(done.status, pb.ResponseStatus.COMPLETED);
    assert.equal(done.responseId, toolCall.responseId, 'one reply');
    assert.equal(done.heardText, 'Let me look. Here you go: sunny, 21 C');
    const sent = g.llm.requests.at(-1)!.body.messages;
    assert.deepEqual(sent.slice(-2), [
      { role: 'assistant', content: 'Let me look. ', tool_calls: [{ id: toolCall.callId, type: 'function', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' } }] },
      { role: 'tool', tool_call_id: toolCall.callId, content: 'sunny, 21 C' },
    ]);
    assert.deepEqual((g.llm.requests.at(-2)!.body.tools as Array<{ function: { name: string } }>).map((t) => t.function.name).sort(), ['find_order', 'get_weather', 'hold', 'lookup_order']);
    c.close();
  });

  void it('gRPC: an MCP tool runs on the gateway; the client sees tool_activity, never a tool_call', async () => {
    const c = openConverse(g.gateway.grpcAddress);
    c.send(start([]));
    await nextGrpc(c, 'ready');
    c.send({ case: 'text', value: { text: 'where is my order?' } });
    const done = await nextGrpc(c, 'responseDone');
    assert.equal(done.heardText, 'One moment. Here you go: Order 1001: a blue kettle, shipped, arriving Thursday.');
    const activity = c.events.flatMap((e) => (e.event.case === 'toolActivity' ? [e.event.value] : []));
    assert.deepEqual(activity.map((a) => [a.name, a.server, pb.ToolOutcome[a.outcome]]), [['lookup_order', 'shop', 'UNSPECIFIED'], ['lookup_order', 'shop', 'OK']]);
    assert.equal(activity[1]!.argumentsJson, '', 'no arguments on the wire without TOOL_ACTIVITY_DETAIL');
    assert.ok(!c.events.some((e) => e.event.case === 'toolCall'));
    c.close();
  });

  void it('WebSocket: the same round trip in binary voice.v1 frames', async () => {
    const ws = await connectVoiceWs(`ws://127.0.0.1:${g.gateway.httpPort}/v1/voice`);
    ws.send(start());
    await ws.next('ready');
    ws.send({ case: 'text', value: { text: 'weather please' } });
    const toolCall = await ws.next('toolCall');
    ws.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'rain' } });
    const done = await ws.next('responseDone');
    assert.equal(done.heardText, 'Let me look. Here you go: rain');
    await ws.close();
  });

  void it('bad declarations and results get a clear error; the session goes on and loses nothing', async () => {
    const c = openConverse(g.gateway.grpcAddress);
    const errors = () => c.events.flatMap((e) => (e.event.case === 'error' ? [e.event.value] : []));
    const nextError = async (n: number) => {
      await nextGrpc(c, 'error', () => errors().length >= n);
      return errors()[n - 1]!;
    };
    c.send(start([{ ...WEATHER, parametersJson: '{"type": "object", "properties": {"city": {"type": "strin"}}}' }]));
    const error = await nextError(1);
    assert.equal(error.code, pb.ErrorCode.INVALID_ARGUMENT);
    assert.match(error.message, /tools\[0\]\.parameters of "get_weather" is not a valid JSON Schema: .*properties\/city\/type/);
    assert.equal(error.sessionContinues, true);
    c.send(start([WEATHER, WEATHER]));
    assert.match((await nextError(2)).message, /tools\[1\]\.name "get_weather" is declared twice/);
    c.send(start([{ ...WEATHER, name: 'lookup_order' }]));
    assert.match((await nextError(3)).message, /"lookup_order" is taken by one of the gateway's own tools/);
    c.send(start([{ ...WEATHER, parametersJson: '{not json' }]));
    assert.match((await nextError(4)).message, /tools\[0\] "get_weather": parameters_json is not JSON/);
    c.send(start([{ ...WEATHER, name: 'get weather!' }]));
    assert.match((await nextError(5)).message, /tools\[0\]\.name "get weather!" is not accepted: use 1 to 64 letters, digits, _ or -/);
    c.send(start());
    await nextGrpc(c, 'ready');
    c.send({ case: 'toolResult', value: { callId: 'nobody_made_this', output: 'x' } });
    assert.match((await nextError(6)).message, /no tool call has id "nobody_made_this"/);
    c.send({ case: 'text', value: { text: 'weather?' } });
    const toolCall = await nextGrpc(c, 'toolCall');
    c.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'x'.repeat(20000) } });
    assert.match((await nextError(7)).message, /is 20000 bytes: at most 16384 \(TOOL_RESULT_MAX_BYTES\); the call still waits for a shorter result/);
    c.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'cloudy' } });
    assert.equal((await nextGrpc(c, 'responseDone')).heardText, 'Let me look. Here you go: cloudy');
    c.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'again' } });
    assert.match((await nextError(8)).message, /tool call "[^"]+" was already answered/);
    assert.ok(errors().every((e) => e.sessionContinues));
    c.close();
  });

  void it('/metrics counts tool calls by tool, kind and outcome, with their duration', async () => {
    const { series } = await scrape(g.gateway.httpPort);
    const calls = series.get('voice_gateway_tool_calls_total')?.metrics ?? [];
    const count = (tool: string, kind: string) => Number(calls.find((m) => m.labels?.tool === tool && m.labels.kind === kind && m.labels.outcome === 'ok')?.value ?? 0);
    assert.ok(count('get_weather', 'client') >= 3, JSON.stringify(calls));
    assert.ok(count('lookup_order', 'server') >= 1, JSON.stringify(calls));
    const seconds = series.get('voice_gateway_tool_seconds_count')?.metrics ?? [];
    assert.ok(seconds.some((m) => m.labels?.tool === 'lookup_order' && Number(m.value) >= 1), JSON.stringify(seconds));
  });
});
