/**
 * Fillers on the wire, on a real gateway process: while a tool runs past TOOL_FILLER_AFTER_MS the
 * agent says a filler (text and audio) before the result is in, in the session's language
 * (TOOL_FILLER_PHRASES), then the reply goes on; a client that fills the wait itself turns it off.
 * Every wait is for an event: the client holds its result until the filler has come.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { openConverse } from '../support/grpc-call.js';
import type { ScriptedRequest } from '../support/scripted-openai-server.js';
import { nextGrpc, startToolGateway, type ToolGateway } from '../support/tool-gateway.js';
import { connectVoiceWs } from '../support/voice-ws-client.js';

const WEATHER = {
  name: 'get_weather',
  description: 'The weather now in a city',
  parametersJson: JSON.stringify({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
};

/** Weather questions call the client's tool, stock questions the MCP server's `hold`; no words before either call. */
function model(req: ScriptedRequest) {
  const last = req.messages.at(-1)!;
  if (last.role === 'tool') return `Here you go: ${last.content}`;
  const asked = last.content ?? '';
  if (/stock/.test(asked)) return { tokens: [], toolCalls: [{ id: 'call_hold', name: 'hold', arguments: '{"what": "stock"}' }] };
  if (/weather/.test(asked)) return { tokens: [], toolCalls: [{ id: `call_w${req.messages.length}`, name: 'get_weather', arguments: '{"city": "Oslo"}' }] };
  return 'Hello.';
}

let g: ToolGateway;
before(async () => {
  g = await startToolGateway(model, { TOOL_FILLER_AFTER_MS: '100', TOOL_FILLER_PHRASES: JSON.stringify({ de: ['Moment bitte.'] }) });
});
after(() => g.stop());

const texts = (events: pb.ConverseResponse[]) => events.flatMap((e) => (e.event.case === 'responseText' ? [e.event.value.delta] : []));

void describe('tool fillers on the wire', () => {
  void it('WebSocket: a client tool that runs long gets a spoken filler before its result; the reply goes on', async () => {
    const ws = await connectVoiceWs(`ws://127.0.0.1:${g.gateway.httpPort}/v1/voice`);
    ws.send({ case: 'start', value: { settings: { tools: { tools: [WEATHER] } } } });
    await ws.next('ready');
    ws.send({ case: 'text', value: { text: 'weather please' } });
    const toolCall = await ws.next('toolCall');
    const callAt = ws.events.findIndex((e) => e.event.case === 'toolCall');
    // The result is held back until the filler came: the filler is what fills that wait.
    await ws.next('responseText', (t) => t.delta.includes('One moment.'), callAt);
    const fillerAt = ws.events.findIndex((e, i) => i > callAt && e.event.case === 'responseText');
    await ws.next('responseAudio', (a) => a.responseId === toolCall.responseId, fillerAt);
    ws.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'rain' } });
    const done = await ws.next('responseDone');
    assert.equal(done.responseId, toolCall.responseId, 'filler and answer are one reply');
    assert.match(done.heardText, /^One moment\.( Still working on it\.)* Here you go: rain$/);
    const said = texts(ws.events).join('');
    assert.ok(said.indexOf('One moment.') < said.indexOf('Here you go: rain'), `the answer comes after the filler: ${said}`);
    await ws.close();
  });

  void it('gRPC: a server (MCP) tool held open gets the filler of the session language, from TOOL_FILLER_PHRASES', async () => {
    const c = openConverse(g.gateway.grpcAddress);
    c.send({ case: 'start', value: { settings: { language: 'de-DE' } } });
    await nextGrpc(c, 'ready');
    const held = g.mcp.nextHeld();
    c.send({ case: 'text', value: { text: 'is it in stock?' } });
    const hold = await held;
    await nextGrpc(c, 'responseText', (t) => t.delta.includes('Moment bitte.'));
    hold.answer('3 left');
    const done = await nextGrpc(c, 'responseDone');
    assert.match(done.heardText, /^Moment bitte\.( Moment bitte\.)* Here you go: 3 left$/);
    assert.ok(!texts(c.events).some((t) => t.includes('One moment.')), 'no English filler in a German session');
    c.close();
  });

  void it('a client that fills the wait itself (tool_filler_disabled) hears no filler, even past a timeout', async () => {
    const ws = await connectVoiceWs(`ws://127.0.0.1:${g.gateway.httpPort}/v1/voice`);
    // 800 ms without a result: fillers at 100 ms would have been said several times by then.
    ws.send({ case: 'start', value: { settings: { tools: { tools: [{ ...WEATHER, timeoutMs: 800 }] }, toolFillerDisabled: true } } });
    await ws.next('ready');
    ws.send({ case: 'text', value: { text: 'weather please' } });
    const cancelled = await ws.next('toolCallCancelled');
    const done = await ws.next('responseDone');
    assert.equal(done.responseId, cancelled.responseId);
    assert.match(done.heardText, /^Here you go: .*did not answer within 800 ms/);
    assert.deepEqual(texts(ws.events).filter((t) => /One moment|Still working/.test(t)), []);
    await ws.close();
  });
});
