/**
 * The bounds of a tool turn, on a real gateway process over gRPC and the voice.v1 WebSocket:
 * a client tool past TOOL_TIMEOUT_MS (or its own timeout_ms) is cancelled and the LLM is told;
 * at most TOOL_MAX_ROUNDS rounds, then the LLM is asked to answer without tools; an MCP server
 * (a process of its own) killed mid-call ends the call as unavailable, the LLM is told and the
 * reply goes on.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import type { ChatMessage } from '../../src/providers/types.js';
import { openConverse } from '../support/grpc-call.js';
import type { ScriptedRequest } from '../support/scripted-openai-server.js';
import { nextGrpc, startToolGateway, type ToolGateway } from '../support/tool-gateway.js';
import { connectVoiceWs } from '../support/voice-ws-client.js';

const params = JSON.stringify({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
const WEATHER = { name: 'get_weather', description: 'The weather now in a city', parametersJson: params };
const FORECAST = { name: 'get_forecast', description: 'Tomorrow in a city', parametersJson: params, timeoutMs: 700 };

/** What the user asked for decides the call; a tool result is read back; told not to call, it answers. */
function model(req: ScriptedRequest) {
  const last = req.messages.at(-1)!;
  const asked = req.messages.findLast((m) => m.role === 'user')?.content ?? '';
  if (req.body.tool_choice === 'none') return 'Enough lookups.';
  if (/again/.test(asked)) return { tokens: [], toolCalls: [{ id: `call_r${req.messages.length}`, name: 'get_weather', arguments: '{"city": "Oslo"}' }] };
  if (last.role === 'tool') return `Told: ${last.content}`;
  if (/forecast/.test(asked)) return { tokens: [], toolCalls: [{ id: 'call_f', name: 'get_forecast', arguments: '{"city": "Oslo"}' }] };
  if (/weather/.test(asked)) return { tokens: [], toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: '{"city": "Oslo"}' }] };
  if (/stock/.test(asked)) return { tokens: ['Let me check. '], toolCalls: [{ id: 'call_hold', name: 'hold', arguments: '{"what": "stock"}' }] };
  return 'Hello.';
}

/** Tool results of a request the gateway sent, by call id. */
function toolResults(req: ScriptedRequest): Record<string, string> {
  const messages = req.body.messages as Array<ChatMessage & { tool_call_id?: string }>;
  return Object.fromEntries(messages.flatMap((m) => (m.role === 'tool' ? [[m.tool_call_id, m.content ?? '']] : [])));
}

/** The LLM requests that answered `asked` (the last user message). */
const requestsFor = (asked: RegExp) => g.llm.requests.filter((r) => asked.test(r.messages.findLast((m) => m.role === 'user')?.content ?? ''));

let g: ToolGateway;
/** The MCP server the gateway uses, as a process of its own (test/support/mcp-server-main.ts) that a test kills. */
let mcpChild: ChildProcess;
let mcpLines: AsyncIterator<string>;
before(async () => {
  mcpChild = spawn(process.execPath, ['--import', 'tsx', 'test/support/mcp-server-main.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  mcpLines = createInterface({ input: mcpChild.stdout! })[Symbol.asyncIterator]();
  const url = String((await mcpLines.next()).value);
  g = await startToolGateway(model, {
    TOOL_TIMEOUT_MS: '300',
    TOOL_MAX_ROUNDS: '2',
    // A long timeout: the call must end because the server died, not because time ran out on a loaded machine.
    MCP_SERVERS: JSON.stringify([{ name: 'stock', url, allow: ['hold'], timeoutMs: 600_000 }]),
  });
});
after(async () => {
  await g.stop();
  if (mcpChild.exitCode === null && mcpChild.signalCode === null) {
    mcpChild.kill('SIGKILL');
    await once(mcpChild, 'exit');
  }
});

void describe('tool turn bounds, on the wire', () => {
  void it('gRPC: a client tool with no result within TOOL_TIMEOUT_MS is cancelled (timeout) and the LLM is told', async () => {
    const c = openConverse(g.gateway.grpcAddress);
    c.send({ case: 'start', value: { settings: { tools: { tools: [WEATHER, FORECAST] } } } });
    await nextGrpc(c, 'ready');
    c.send({ case: 'text', value: { text: 'weather please' } });
    const toolCall = await nextGrpc(c, 'toolCall');
    // The test never answers: the gateway's bound ends the wait.
    const cancelled = await nextGrpc(c, 'toolCallCancelled');
    assert.deepEqual([cancelled.callId, cancelled.reason], [toolCall.callId, pb.ToolCancelReason.TIMEOUT]);
    const done = await nextGrpc(c, 'responseDone');
    assert.equal(done.responseId, toolCall.responseId);
    assert.equal(done.heardText, 'Told: Error: the tool did not answer within 300 ms and was cancelled; it may or may not have run.');
    assert.deepEqual(toolResults(requestsFor(/weather/).at(-1)!), { call_w: 'Error: the tool did not answer within 300 ms and was cancelled; it may or may not have run.' });
    c.close();
  });

  void it("WebSocket: a tool's own timeout_ms replaces TOOL_TIMEOUT_MS; a result after it is acknowledged and ignored", async () => {
    const ws = await connectVoiceWs(`ws://127.0.0.1:${g.gateway.httpPort}/v1/voice`);
    ws.send({ case: 'start', value: { settings: { tools: { tools: [WEATHER, FORECAST] } } } });
    await ws.next('ready');
    ws.send({ case: 'text', value: { text: 'forecast please' } });
    const toolCall = await ws.next('toolCall');
    assert.equal(toolCall.name, 'get_forecast');
    const cancelled = await ws.next('toolCallCancelled');
    assert.deepEqual([cancelled.callId, cancelled.reason], [toolCall.callId, pb.ToolCancelReason.TIMEOUT]);
    const done = await ws.next('responseDone');
    assert.match(done.heardText, /^Told: Error: the tool did not answer within 700 ms and was cancelled/);
    const from = ws.events.length;
    ws.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'sunny' } });
    assert.equal((await ws.next('toolCallCancelled', () => true, from)).callId, toolCall.callId);
    assert.ok(!ws.events.some((e) => e.event.case === 'error'), JSON.stringify(ws.events.filter((e) => e.event.case === 'error')));
    assert.ok(!JSON.stringify(g.llm.requests.map((r) => r.body.messages)).includes('sunny'), 'the late result never reached the LLM');
    await ws.close();
  });

  void it('gRPC: at most TOOL_MAX_ROUNDS (2) rounds, then the LLM is asked for an answer without tools', async () => {
    const c = openConverse(g.gateway.grpcAddress);
    // Its own long timeout: a loaded machine's slow answers must not end a round as a timeout.
    c.send({ case: 'start', value: { settings: { tools: { tools: [{ ...WEATHER, timeoutMs: 60_000 }] } } } });
    await nextGrpc(c, 'ready');
    c.send({ case: 'text', value: { text: 'weather again and again' } });
    const answered: string[] = [];
    for (let round = 0; round < 2; round++) {
      const toolCall = await nextGrpc(c, 'toolCall', (t) => !answered.includes(t.callId));
      answered.push(toolCall.callId);
      c.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'cold' } });
    }
    const done = await nextGrpc(c, 'responseDone');
    assert.equal(done.heardText, 'Enough lookups.');
    assert.deepEqual(requestsFor(/again/).map((r) => r.body.tool_choice), ['auto', 'auto', 'none']);
    assert.equal(c.events.filter((e) => e.event.case === 'toolCall').length, 2, 'no third call reached the client');
    c.close();
  });

  // Last: the MCP server is gone after it.
  void it('WebSocket: the MCP server killed mid-call: the call ends as unavailable, the LLM is told, the reply goes on', async () => {
    const ws = await connectVoiceWs(`ws://127.0.0.1:${g.gateway.httpPort}/v1/voice`);
    ws.send({ case: 'start', value: {} });
    await ws.next('ready');
    ws.send({ case: 'text', value: { text: 'is it in stock?' } });
    assert.equal((await mcpLines.next()).value, 'called hold', 'the call reached the MCP server');
    mcpChild.kill('SIGKILL');
    await once(mcpChild, 'exit');
    const done = await ws.next('responseDone');
    assert.equal(done.status, pb.ResponseStatus.COMPLETED);
    assert.match(done.heardText, /^Let me check\. Told: Error: the tool server "stock" (went away|failed) during the call/);
    assert.match(toolResults(requestsFor(/stock/).at(-1)!).call_hold!, /^Error: the tool server "stock" (went away|failed) during the call .*the tool may or may not have run/);
    const ended = await ws.next('toolActivity', (a) => a.outcome !== pb.ToolOutcome.UNSPECIFIED);
    assert.deepEqual([ended.name, ended.server, ended.outcome], ['hold', 'stock', pb.ToolOutcome.UNAVAILABLE]);
    // The session goes on: the next turn is answered.
    ws.send({ case: 'text', value: { text: 'hi' } });
    assert.equal((await ws.next('responseDone', (d) => d.responseId !== done.responseId)).heardText, 'Hello.');
    await ws.close();
  });
});
