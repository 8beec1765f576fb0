/**
 * The built-in end_call tool over real sockets: one gateway in this process with the real
 * OpenAI-compatible provider against a scripted server that streams tool calls as OpenAI does.
 * A Twilio peer and an AudioSocket client hear the goodbye whole, then the gateway hangs up with
 * the protocol's own signal and the session ends as agent_ended; a barge-in over the goodbye
 * cancels the hang-up and the model reads why; a gRPC session is never offered the tool.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { END_CALL_CANCELLED } from '../../src/core/end-call-tool.js';
import { openConverse } from '../support/grpc-call.js';
import { AudioSocketClient } from '../support/audiosocket-client.js';
import { slinSilence } from '../support/phone-audio.js';
import { startScriptedOpenAiServer, type ScriptedRequest, type ScriptedServer } from '../support/scripted-openai-server.js';
import { eventually, startTelephonyGateway, type TelephonyGateway } from '../support/telephony-gateway.js';
import { nextGrpc } from '../support/tool-gateway.js';
import { TwilioPeer } from '../support/twilio-peer.js';

const GOODBYE = 'Thank you for calling, goodbye.';
const LONG_GOODBYE = 'Thank you for calling the weather line today. We hope the sun stays out for you all week. Goodbye.';
const toolNames = (req: ScriptedRequest | undefined) => ((req?.body.tools ?? []) as Array<{ function: { name: string } }>).map((t) => t.function.name);

/** The model: key 9 says goodbye and hangs up, key 8 says a long goodbye and hangs up; anything else gets a short answer. */
function model(req: ScriptedRequest) {
  const said = req.messages.at(-1)?.content ?? '';
  if (said === '[pressed 9]') return { tokens: GOODBYE.split(/(?<= )/), toolCalls: [{ id: 'call_end_9', name: 'end_call', arguments: '{"reason": "the caller is done"}' }] };
  if (said === '[pressed 8]') return { tokens: LONG_GOODBYE.split(/(?<= )/), toolCalls: [{ id: 'call_end_8', name: 'end_call', arguments: '{}' }] };
  return 'Sure, go on.';
}

let llm: ScriptedServer;
let phone: TelephonyGateway;
const streamUrl = () => `${phone.wsBase}/v1/telephony/twilio`;
const agentEnded = () => phone.logs.filter((l) => l.msg === 'session closed' && l.cause === 'agent_ended').length;
const request = (index: number) => eventually(() => llm.requests[index], `LLM request ${index + 1}`);

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: model, tokenDelayMs: 1 });
  phone = await startTelephonyGateway({ reply: () => [], llmBaseUrl: llm.baseUrl, env: { AUDIOSOCKET_PORT: '0', TOOL_FILLER_AFTER_MS: '0' } });
});
after(async () => {
  await phone.close();
  await llm.close();
});

void describe('the built-in end_call tool', () => {
  void it('Twilio: the caller hears the goodbye whole (media and marks), then the gateway closes the stream and the session ends as agent_ended', async () => {
    const opened = phone.sessionsOpened();
    const ended = agentEnded();
    const peer = await TwilioPeer.connect(streamUrl());
    await phone.admitted(opened);
    const before = llm.requests.length;
    peer.pressKey('9');
    const asked = await request(before);
    assert.deepEqual(toolNames(asked), ['end_call'], 'a phone session is offered end_call');
    const closed = await peer.closed;
    assert.equal(closed.code, 1000);
    assert.match(closed.reason, /agent ended the call: the agent called end_call \(the caller is done\)/);
    const media = peer.received.filter((m) => m.event === 'media');
    const marks = peer.received.filter((m) => m.event === 'mark');
    assert.ok(media.length > 0 && marks.length >= media.length, `the goodbye came as media, each followed by a mark (${media.length} media, ${marks.length} marks)`);
    const received = peer.receivedAudioMs();
    assert.ok(received >= GOODBYE.length * 50 - 100, `the whole goodbye was sent (${received} ms)`);
    assert.ok(peer.heardMs >= received - 20, `the goodbye was heard whole before the hang-up (${peer.heardMs} of ${received} ms)`);
    assert.equal(llm.requests.length, before + 1, 'the reply ended at end_call: no further LLM round');
    await eventually(() => agentEnded() > ended, 'the session closed as agent_ended');
    const toolLine = await eventually(() => phone.logs.find((l) => l.msg === 'tool call' && l.tool === 'end_call'), 'the tool call logged');
    assert.equal(toolLine.outcome, 'ok');
    assert.equal(toolLine.kind, 'builtin');
    const metrics = await (await fetch(`${phone.httpBase}/metrics`)).text();
    assert.match(metrics, /voice_gateway_tool_calls_total\{tool="end_call",kind="builtin",outcome="ok"\} [1-9]/);
    assert.match(metrics, /voice_gateway_sessions_ended_total\{reason="agent_ended"\} [1-9]/);
  });

  void it('Twilio: a barge-in over the goodbye cancels the hang-up; the model reads that the call goes on, with a valid history', async () => {
    const opened = phone.sessionsOpened();
    const peer = await TwilioPeer.connect(streamUrl());
    await phone.admitted(opened);
    const before = llm.requests.length;
    peer.pressKey('8');
    await request(before);
    await peer.talkOver(1500, 'part of the long goodbye heard'); // the caller talks over the goodbye
    const next = (await request(before + 1)).body.messages;
    const call = next.findIndex((m) => m.role === 'assistant' && m.tool_calls?.[0]?.function.name === 'end_call');
    assert.ok(call > 0, JSON.stringify(next));
    const cut = next[call]!.content ?? '';
    assert.ok(cut.length > 0 && cut.length < LONG_GOODBYE.length && LONG_GOODBYE.startsWith(cut), `the goodbye cut to what was heard: "${cut}"`);
    assert.deepEqual(next[call + 1], { role: 'tool', tool_call_id: 'call_end_8', content: END_CALL_CANCELLED }, 'the call has its result, saying the call goes on');
    assert.equal(next[call + 2]?.role, 'user', 'then what the caller said');
    assert.deepEqual(toolNames(llm.requests[before + 1]), ['end_call'], 'still offered');
    const line = await eventually(() => phone.logs.find((l) => l.msg === 'tool call' && l.callId === 'call_end_8'), 'the tool call logged');
    assert.equal(line.outcome, 'cancelled');
    await eventually(() => phone.logs.some((l) => l.msg === 'turn' && l.status === 'completed' && l.responseId !== line.responseId && l.sessionId === line.sessionId), 'the answer to what the caller said played whole');
    let stillOpen = true;
    void peer.closed.then(() => (stillOpen = false));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(stillOpen, 'the call goes on');
    peer.hangUp();
    await peer.closed;
  });

  void it('AudioSocket: the goodbye plays out in real time, then the gateway sends the hangup message', async () => {
    const ended = agentEnded();
    const before = llm.requests.length;
    const client = await AudioSocketClient.connect(phone.gateway.audioSocketPort!);
    await client.speak(slinSilence(100)); // AudioSocket's call starts with its first audio
    client.pressKey('9');
    await request(before);
    await client.ended;
    assert.ok(client.hangupReceived, 'the gateway sent the AudioSocket hangup message (kind 0x00)');
    assert.ok(client.heardMs() >= GOODBYE.length * 50 - 100, `the goodbye was sent whole first (${client.heardMs()} ms)`);
    await eventually(() => agentEnded() > ended, 'the session closed as agent_ended');
  });

  void it('gRPC: a session whose transport cannot hang up is never offered end_call', async () => {
    const c = openConverse(`127.0.0.1:${phone.gateway.grpcPort}`);
    const tool = { name: 'get_weather', description: 'The weather now', parametersJson: JSON.stringify({ type: 'object', properties: {} }) };
    c.send({ case: 'start', value: { settings: { tools: { tools: [tool] } } } });
    await nextGrpc(c, 'ready');
    const before = llm.requests.length;
    c.send({ case: 'text', value: { text: 'hello' } });
    assert.deepEqual(toolNames(await request(before)), ['get_weather'], 'its own tool, and no end_call');
    await nextGrpc(c, 'responseDone');
    c.close();
  });
});
