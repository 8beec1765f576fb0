/**
 * Barge-in during a client tool call, on a real gateway process over the voice.v1 WebSocket: the
 * user speaks while the client runs its tool; the call is cancelled (tool_call_cancelled,
 * barge_in), the result that comes after is acknowledged and ignored, and the next turn's LLM
 * request holds no call without its result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import type { ScriptedRequest } from '../support/scripted-openai-server.js';
import { startToolGateway, type ToolGateway } from '../support/tool-gateway.js';
import { connectVoiceWs, sendPcm } from '../support/voice-ws-client.js';

const WEATHER = {
  name: 'get_weather',
  description: 'The weather now in a city',
  parametersJson: JSON.stringify({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
};

function model(req: ScriptedRequest) {
  const last = req.messages.at(-1)!;
  if (last.role === 'tool') return `Here you go: ${last.content}`;
  if (/weather/.test(last.content ?? '')) return { tokens: ['Let me look. '], toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: '{"city": "Oslo"}' }] };
  return 'Okay.';
}

let g: ToolGateway;
before(async () => {
  g = await startToolGateway(model, { TURN_END_SILENCE_MS: '400' });
});
after(() => g.stop());

void describe('barge-in during a tool call, on the wire', () => {
  void it('the pending call is cancelled, a late result is acknowledged and ignored, the next request is valid', async () => {
    const ws = await connectVoiceWs(`ws://127.0.0.1:${g.gateway.httpPort}/v1/voice`);
    ws.send({ case: 'start', value: { settings: { tools: { tools: [WEATHER] } } } });
    await ws.next('ready');
    ws.send({ case: 'text', value: { text: 'weather please' } });
    const toolCall = await ws.next('toolCall');
    // The user speaks while the client's tool runs.
    sendPcm(ws, concat(silence(100), tone(1200), silence(800)));
    const cancelled = await ws.next('toolCallCancelled');
    assert.deepEqual([cancelled.callId, cancelled.reason], [toolCall.callId, pb.ToolCancelReason.BARGE_IN]);
    const interrupted = await ws.next('responseDone', (d) => d.responseId === toolCall.responseId);
    assert.equal(interrupted.status, pb.ResponseStatus.INTERRUPTED);
    // The user's new turn is answered.
    const answer = await ws.next('responseDone', (d) => d.responseId !== toolCall.responseId);
    assert.equal(answer.heardText, 'Okay.');
    // The result comes late: acknowledged (the cancellation again), not an error, and not used.
    const from = ws.events.length;
    ws.send({ case: 'toolResult', value: { callId: toolCall.callId, output: 'sunny' } });
    const ack = await ws.next('toolCallCancelled', () => true, from);
    assert.equal(ack.callId, toolCall.callId);
    assert.ok(!ws.events.some((e) => e.event.case === 'error'), JSON.stringify(ws.events.filter((e) => e.event.case === 'error')));
    // The request that answered the new turn: no call without its result, the new words last.
    const sent = g.llm.requests.at(-1)!.body.messages as Array<{ role: string; content?: string | null; tool_calls?: Array<{ id: string }>; tool_call_id?: string }>;
    const calls = sent.flatMap((m) => (m.tool_calls ?? []).map((c) => c.id));
    const results = sent.flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : []));
    assert.deepEqual(calls, results, JSON.stringify(sent));
    assert.match(sent.at(-1)!.content ?? '', /^utterance of \d+ ms$/);
    assert.ok(!JSON.stringify(sent).includes('sunny'), 'the late result never reached the model');
    await ws.close();
  });
});
