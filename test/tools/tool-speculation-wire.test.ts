/**
 * Speculative start with tools, on a real gateway process over the voice.v1 WebSocket: the
 * scripted recognizer sends a stable interim after 100 ms of quiet (SCRIPTED_ASR_STABLE_AFTER_MS)
 * and its final after 400 ms, so the early reply starts on the stable words. An early reply that
 * reaches a server (MCP) tool call waits for the final before the tool runs (hit: it runs once);
 * when the user goes on talking (miss) the early call never runs and the due reply calls with the
 * final words.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import type { ChatMessage } from '../../src/providers/types.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import type { ScriptedRequest } from '../support/scripted-openai-server.js';
import { startToolGateway, type ToolGateway } from '../support/tool-gateway.js';
import { connectVoiceWs, sendPcm } from '../support/voice-ws-client.js';
import { waitUntil } from '../support/wait-until.js';

/** Set by a test when it sends the quiet that ends the turn (the final transcript); results seen before it are recorded. */
let finalSent = true;
const resultsBeforeFinal: string[] = [];

/** The order lookup with the number the user said ("utterance of 800 ms" asks for order 800). */
function model(req: ScriptedRequest) {
  const last = req.messages.at(-1)!;
  if (last.role === 'tool') {
    if (!finalSent) resultsBeforeFinal.push(last.content ?? '');
    return 'It ships Thursday.';
  }
  return { tokens: [], toolCalls: [{ id: 'call_lookup', name: 'find_order', arguments: JSON.stringify({ order_id: (last.content ?? '').replace(/\D/g, '') }) }] };
}

/** Tool results of a request the gateway sent, by call id. */
function toolResults(req: ScriptedRequest): Record<string, string> {
  const messages = req.body.messages as Array<ChatMessage & { tool_call_id?: string }>;
  return Object.fromEntries(messages.flatMap((m) => (m.role === 'tool' ? [[m.tool_call_id, m.content ?? '']] : [])));
}

let g: ToolGateway;
before(async () => {
  g = await startToolGateway(model, { SPECULATIVE_START: 'true', SCRIPTED_ASR_STABLE_AFTER_MS: '100' });
});
after(() => g.stop());

const orderCalls = () => g.mcp.calls.filter((c) => c.startsWith('find_order:'));
/** Speech, then quiet past the stable interim (100 ms) but short of the final (400 ms). */
const speechToStable = concat(silence(200), tone(800), silence(200));

void describe('speculative start with tools, on the wire', () => {
  void it('hit: the early reply reaches its MCP call and waits; the call runs once, after the final transcript', async () => {
    const calledBefore = orderCalls().length;
    const requestsBefore = g.llm.requests.length;
    const completedBefore = g.llm.completedCount();
    const ws = await connectVoiceWs(`ws://127.0.0.1:${g.gateway.httpPort}/v1/voice`);
    ws.send({ case: 'start', value: {} });
    await ws.next('ready');
    finalSent = false;
    sendPcm(ws, speechToStable);
    // The early reply's LLM stream ended with its call: the reply now holds it until the final.
    await waitUntil(() => g.llm.completedCount() > completedBefore, 'the early LLM reply', 30_000);
    assert.equal(g.llm.requests.at(-1)!.messages.at(-1)!.content, 'utterance of 800 ms', 'the early request has the stable words');
    assert.equal(orderCalls().length, calledBefore, 'nothing ran before the final');
    assert.ok(!ws.events.some((e) => e.event.case === 'transcript' && e.event.value.stability === pb.TranscriptStability.FINAL), 'no final yet');
    finalSent = true;
    sendPcm(ws, silence(600));
    const done = await ws.next('responseDone');
    assert.equal(done.heardText, 'It ships Thursday.');
    assert.equal((await ws.next('turnMetrics')).speculative, pb.SpeculativeOutcome.HIT);
    assert.deepEqual(orderCalls().slice(calledBefore), ['find_order:800'], 'the call ran once');
    assert.deepEqual(resultsBeforeFinal, [], 'no tool result reached the model before the final');
    assert.equal(g.llm.requests.length - requestsBefore, 2, 'the early request (confirmed) and the one with the result: no restart');
    const finalAt = ws.events.findIndex((e) => e.event.case === 'transcript' && e.event.value.stability === pb.TranscriptStability.FINAL);
    const ranAt = ws.events.findIndex((e) => e.event.case === 'toolActivity');
    assert.ok(finalAt >= 0 && ranAt > finalAt, `the tool ran after the final transcript: ${ws.events.map((e) => e.event.case).join(', ')}`);
    await ws.close();
  });

  void it('miss: the user goes on talking; the early call never runs, the due reply calls with the final words', async () => {
    const calledBefore = orderCalls().length;
    const completedBefore = g.llm.completedCount();
    const ws = await connectVoiceWs(`ws://127.0.0.1:${g.gateway.httpPort}/v1/voice`);
    ws.send({ case: 'start', value: {} });
    await ws.next('ready');
    sendPcm(ws, speechToStable);
    await waitUntil(() => g.llm.completedCount() > completedBefore, 'the early LLM reply', 30_000);
    assert.equal(g.llm.requests.at(-1)!.messages.at(-1)!.content, 'utterance of 800 ms');
    // More words before the final: the turn is now 1200 ms of speech, not what the early reply answered.
    sendPcm(ws, concat(tone(400), silence(600)));
    const done = await ws.next('responseDone');
    assert.equal(done.heardText, 'It ships Thursday.');
    assert.equal((await ws.next('turnMetrics')).speculative, pb.SpeculativeOutcome.MISS);
    assert.deepEqual(orderCalls().slice(calledBefore), ['find_order:1200'], 'only the due reply called, with the final words');
    assert.deepEqual(toolResults(g.llm.requests.at(-1)!), { call_lookup: 'Order 1200 ships Thursday.' });
    const activity = ws.events.flatMap((e) => (e.event.case === 'toolActivity' && e.event.value.outcome !== pb.ToolOutcome.UNSPECIFIED ? [e.event.value] : []));
    assert.deepEqual(activity.map((a) => [a.name, a.outcome]), [['find_order', pb.ToolOutcome.OK]]);
    await ws.close();
  });
});
