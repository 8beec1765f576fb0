/**
 * Function calling on the OpenAI Realtime endpoint, GA and beta dialects, with the official
 * `openai` SDK's Realtime clients: `session.tools`, a `function_call` output item with its
 * argument deltas, the reply ending there, `function_call_output` back as an item, then
 * `response.create` and the answer; and what a client gets wrong.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- wire events are read as untyped JSON; the assertions are the type checks */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GatewayProcess } from '../support/gateway-process.js';
import { startTestMcpServer, type TestMcpServer } from '../support/mcp-test-server.js';
import { RealtimeTestClient, type AnyEvent } from '../support/realtime-client.js';
import type { ScriptedRequest, ScriptedServer } from '../support/scripted-openai-server.js';
import type { TestCa } from '../support/test-ca.js';
import { startTlsGateway } from '../support/tls-gateway.js';

const WEATHER = { type: 'function', name: 'get_weather', description: 'The weather now in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

function model(req: ScriptedRequest) {
  const last = req.messages.at(-1)!;
  if (last.role === 'tool') return last.tool_call_id === 'call_order' ? `${last.content}` : `It is ${last.content} in Oslo.`;
  if (/order/.test(last.content)) return { toolCalls: [{ id: 'call_order', name: 'find_order', arguments: '{"order_id":"5"}' }] };
  return { tokens: ['Checking.'], toolCalls: [{ id: `call_${req.messages.length}`, name: 'get_weather', arguments: '{"city":"Oslo"}' }] };
}

let ca: TestCa;
let llm: ScriptedServer;
let mcp: TestMcpServer;
let gateway: GatewayProcess;
let stop: () => Promise<void>;
const connect = (beta = false) => RealtimeTestClient.connect({ port: gateway.httpPort, ca: ca.read('ca').toString(), beta });

before(async () => {
  mcp = await startTestMcpServer();
  ({ ca, llm, gateway, stop } = await startTlsGateway({ reply: model, tokenDelayMs: 1 }, { MCP_SERVERS: JSON.stringify([{ name: 'shop', url: mcp.url, allow: ['find_order'] }]) }));
});
after(async () => {
  await stop();
  await mcp.close();
});

async function toolTurn(rt: RealtimeTestClient, beta: boolean): Promise<{ call: AnyEvent; answer: AnyEvent }> {
  await rt.next('session.created');
  rt.send({ type: 'session.update', session: beta ? { tools: [WEATHER], tool_choice: 'auto', turn_detection: null } : { type: 'realtime', tools: [WEATHER], tool_choice: 'auto', audio: { input: { turn_detection: null } } } });
  const updated = await rt.next('session.updated');
  assert.deepEqual(updated.session.tools, [WEATHER]);
  assert.equal(updated.session.tool_choice, 'auto');
  rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'weather in Oslo?' }] } });
  rt.send({ type: 'response.create' });
  const done = await rt.next('response.done');
  assert.equal(done.response.status, 'completed', rt.summary());
  const call = done.response.output.find((o: AnyEvent) => o.type === 'function_call');
  assert.ok(call, JSON.stringify(done.response.output));
  assert.deepEqual({ name: call.name, arguments: call.arguments, status: call.status }, { name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' });
  const added = await rt.next('response.output_item.added', (e) => e.item.type === 'function_call');
  assert.deepEqual({ id: added.item.id, call_id: added.item.call_id, arguments: added.item.arguments, status: added.item.status }, { id: call.id, call_id: call.call_id, arguments: '', status: 'in_progress' });
  const delta = await rt.next('response.function_call_arguments.delta');
  const argsDone = await rt.next('response.function_call_arguments.done');
  assert.deepEqual([delta.call_id, delta.item_id, delta.delta], [call.call_id, call.id, '{"city":"Oslo"}']);
  assert.deepEqual([argsDone.call_id, argsDone.arguments, argsDone.output_index], [call.call_id, '{"city":"Oslo"}', 1]);
  const from = rt.events.length;
  rt.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.call_id, output: '12 degrees' } });
  const output = await rt.next(beta ? 'conversation.item.created' : 'conversation.item.added', (e) => e.item.type === 'function_call_output', 20_000, from);
  assert.deepEqual([output.item.call_id, output.item.output], [call.call_id, '12 degrees']);
  rt.send({ type: 'response.create' });
  const answer = await rt.next('response.done', () => true, 20_000, from);
  return { call, answer };
}

void describe('Realtime function calling', () => {
  for (const beta of [false, true]) {
    void it(`${beta ? 'beta' : 'GA'}: a function call ends the reply; its output and response.create bring the answer`, async () => {
      const rt = await connect(beta);
      const { call, answer } = await toolTurn(rt, beta);
      assert.equal(answer.response.status, 'completed', rt.summary());
      const transcript = rt.all(beta ? 'response.audio_transcript.done' : 'response.output_audio_transcript.done').at(-1)!.transcript as string;
      assert.equal(transcript, 'It is 12 degrees in Oslo.');
      const sent = llm.requests.at(-1)!.body.messages;
      assert.deepEqual(sent.slice(-3), [
        { role: 'user', content: 'weather in Oslo?' },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: call.call_id, content: '12 degrees' },
      ]);
      assert.deepEqual(rt.all('error'), []);
      await rt.close();
    });
  }

  void it('a server tool runs inside the reply; its call and result stay off the wire', async () => {
    const rt = await connect();
    await rt.next('session.created');
    rt.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null } } } });
    await rt.next('session.updated');
    rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is order 5?' }] } });
    rt.send({ type: 'response.create' });
    const done = await rt.next('response.done');
    assert.equal(done.response.status, 'completed', rt.summary());
    assert.equal(rt.all('response.output_audio_transcript.done').at(-1)!.transcript, 'Order 5 ships Thursday.');
    assert.ok(mcp.calls.includes('find_order:5'), 'the gateway called the MCP server');
    const seen = JSON.stringify(rt.events);
    assert.ok(!seen.includes('function_call') && !seen.includes('find_order'), 'no function_call item for a server tool');
    await rt.close();
  });

  void it('bad input: an mcp tool, a schema that is not JSON Schema, an unknown or answered call_id, each a clear error', async () => {
    const rt = await connect();
    await rt.next('session.created');
    const error = async (event: Record<string, unknown>) => {
      const from = rt.events.length;
      rt.send({ ...event, event_id: `evt_${from}` });
      const e = await rt.next('error', (x) => x.error.event_id === `evt_${from}`, 20_000, from);
      return e.error as { code: string; message: string; param: string | null };
    };
    let e = await error({ type: 'session.update', session: { type: 'realtime', tools: [{ type: 'mcp', server_url: 'https://x' }] } });
    assert.equal(e.param, 'session.tools.0.type');
    assert.match(e.message, /MCP servers are configured on the gateway \(MCP_SERVERS\)/);
    e = await error({ type: 'session.update', session: { type: 'realtime', tools: [{ ...WEATHER, parameters: { type: 'object', properties: { city: { type: 7 } } } }] } });
    assert.match(e.message, /is not a valid JSON Schema/);
    e = await error({ type: 'session.update', session: { type: 'realtime', tool_choice: { type: 'function', name: 'nope' } } });
    assert.match(e.message, /tool_choice names "nope", which is not a declared tool/);
    e = await error({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_unknown', output: 'x' } });
    assert.match(e.message, /no tool call has id "call_unknown"/);
    assert.equal(e.param, 'item.call_id');
    await rt.close();
    const again = await connect();
    const { call } = await toolTurn(again, false);
    const from = again.events.length;
    again.send({ type: 'conversation.item.create', event_id: 'evt_twice', item: { type: 'function_call_output', call_id: call.call_id, output: 'again' } });
    const twice = await again.next('error', (x) => x.error.event_id === 'evt_twice', 20_000, from);
    assert.match(twice.error.message, /was already answered/);
    await again.close();
  });
});
