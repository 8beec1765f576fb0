/**
 * `@openai/agents-realtime` runs its own tools against the gateway's Realtime endpoint, unchanged:
 * an agent with a `tool()` declares it in its session.update, the gateway's function_call item
 * makes the SDK run it and send its output with response.create, and the agent answers with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAIRealtimeWebSocket, RealtimeAgent, RealtimeSession, tool } from '@openai/agents-realtime';
import { WebSocket } from 'ws';
import { z } from 'zod';
import type { GatewayProcess } from '../support/gateway-process.js';
import type { ScriptedRequest, ScriptedServer } from '../support/scripted-openai-server.js';
import type { TestCa } from '../support/test-ca.js';
import { startTlsGateway } from '../support/tls-gateway.js';

function model(req: ScriptedRequest) {
  const last = req.messages.at(-1)!;
  if (last.role === 'tool') return `The order ${last.content}.`;
  return { toolCalls: [{ id: 'call_order_1', name: 'order_status', arguments: '{"order_id":"1002"}' }] };
}

let ca: TestCa;
let llm: ScriptedServer;
let gateway: GatewayProcess;
let stop: () => Promise<void>;

before(async () => {
  ({ ca, llm, gateway, stop } = await startTlsGateway({ reply: model, tokenDelayMs: 1 }));
});
after(() => stop());

void describe('@openai/agents-realtime tools', () => {
  void it('the SDK runs its tool on the gateway\'s call and the agent answers with the result', async () => {
    const ran: Array<{ order_id: string }> = [];
    const orderStatus = tool({
      name: 'order_status',
      description: 'The status of an order',
      parameters: z.object({ order_id: z.string() }),
      execute: (input) => {
        ran.push(input);
        return Promise.resolve('is being packed');
      },
    });
    const transport = new OpenAIRealtimeWebSocket({
      url: `wss://127.0.0.1:${gateway.httpPort}/v1/realtime?model=cascade`,
      createWebSocket: ({ url, apiKey }) => Promise.resolve(new WebSocket(url, { headers: { Authorization: `Bearer ${apiKey}` }, ca: ca.read('ca').toString() })),
    });
    const session = new RealtimeSession(new RealtimeAgent({ name: 'Shop', instructions: 'Be brief.', tools: [orderStatus] }), { transport, model: 'cascade' });
    const errors: unknown[] = [];
    session.on('error', (e) => errors.push(e.error));
    const toolEnded = new Promise<string>((resolve) => session.on('agent_tool_end', (_context, _agent, _tool, result) => resolve(result)));
    const answered = new Promise<string>((resolve) => session.on('agent_end', (_context, _agent, text) => text && resolve(text)));
    await session.connect({ apiKey: 'test-key' });
    session.sendMessage('where is order 1002?');
    assert.equal(await toolEnded, 'is being packed');
    assert.equal(await answered, 'The order is being packed.');
    assert.deepEqual(ran, [{ order_id: '1002' }]);
    const declared = llm.requests[0]!.body.tools as Array<{ function: { name: string; parameters: { properties: object } } }>;
    assert.equal(declared[0]!.function.name, 'order_status');
    assert.ok('order_id' in declared[0]!.function.parameters.properties);
    assert.deepEqual(llm.requests.at(-1)!.body.messages.at(-1), { role: 'tool', tool_call_id: 'call_order_1', content: 'is being packed' });
    assert.deepEqual(errors, []);
    session.close();
  });
});
