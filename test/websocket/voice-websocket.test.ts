/**
 * The voice.v1 WebSocket transport as browsers use it: a real gateway process, real sockets on
 * loopback, binary Protobuf frames, the scripted VAD/ASR/TTS and the scripted OpenAI-compatible
 * LLM server. Bad input is answered and the server keeps serving other sessions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { newApiKey } from '../../src/auth/api-keys.js';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { connectVoiceWs, sendPcm, type VoiceWsClient } from '../support/voice-ws-client.js';

const LONG_REPLY = 'Here is a long answer about the weather. It will be sunny in the morning. Clouds will come in the afternoon. Rain is likely by the evening. Take an umbrella with you.';
const MAX_MESSAGE_BYTES = 256 * 1024;

let llm: ScriptedServer;
let gateway: GatewayProcess;
const url = () => `ws://127.0.0.1:${gateway.httpPort}/v1/voice`;

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'It is sunny and warm today.', tokenDelayMs: 5 });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    OUTBOUND_QUEUE_MAX_BYTES: '65536',
    MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    TURN_END_SILENCE_MS: '400',
  });
});

after(async () => {
  assert.equal(await gateway.stop(), 0, 'the gateway exits cleanly');
  await llm.close();
});

/** A typed turn on a fresh socket: proves the server still serves sessions. */
async function healthyTurn(): Promise<void> {
  llm.setReply((request) => (request.messages.at(-1)?.content === 'are you there' ? 'Still here.' : LONG_REPLY.repeat(20)));
  const c = await connectVoiceWs(url(), { protocols: ['voice.v1'] });
  c.send({ case: 'start', value: {} });
  c.send({ case: 'text', value: { text: 'are you there' } });
  const done = await c.next('responseDone');
  assert.equal(done.heardText, 'Still here.');
  await c.close();
}

const nextError = (c: VoiceWsClient, from: number) => c.next('error', () => true, from);

void describe('voice turns over the WebSocket', () => {
  void it('a spoken question gets a transcript, a spoken reply and metrics, in binary voice.v1 frames', async () => {
    llm.setReply('It is sunny and warm today.');
    const c = await connectVoiceWs(url(), { protocols: ['voice.v1'] });
    assert.equal(c.ws.protocol, 'voice.v1', 'the server answers with the contract subprotocol');
    c.send({ case: 'start', value: {} });
    const ready = await c.next('ready');
    assert.match(ready.sessionId, /^sess_/);
    sendPcm(c, concat(silence(300), tone(800), silence(800)));
    const transcript = await c.next('transcript', (t) => t.stability === pb.TranscriptStability.FINAL);
    assert.equal(transcript.text, 'utterance of 800 ms');
    const done = await c.next('responseDone');
    assert.equal(done.status, pb.ResponseStatus.COMPLETED);
    assert.equal(done.heardText, 'It is sunny and warm today.');
    const audioBytes = c.events.reduce((n, e) => n + (e.event.case === 'responseAudio' ? e.event.value.data.byteLength : 0), 0);
    assert.ok(audioBytes > 16000 * 2, `a second or more of reply audio (${audioBytes} bytes)`);
    const metrics = await c.next('turnMetrics');
    assert.ok(metrics.voiceToVoiceMs > 0 && metrics.llmTtftMs > 0, JSON.stringify(metrics));
    assert.equal(llm.requests.at(-1)?.messages.at(-1)?.content, 'utterance of 800 ms');
    await c.close();
  });

  void it('a playback report cuts the history to what was heard when the client interrupts', async () => {
    llm.setReply((request) => (request.messages.some((m) => m.role === 'assistant') ? 'Okay.' : LONG_REPLY));
    const before = llm.requests.length;
    const c = await connectVoiceWs(url());
    c.send({ case: 'start', value: {} });
    c.send({ case: 'text', value: { text: 'tell me about the weather' } });
    const started = await c.next('responseStarted');
    // Two seconds of reply audio sent (16 kHz PCM16); the listener has heard one of them.
    const audioMs = () => c.events.reduce((n, e) => n + (e.event.case === 'responseAudio' ? e.event.value.data.byteLength / 32 : 0), 0);
    await c.next('responseAudio', () => audioMs() >= 2000);
    c.send({ case: 'playback', value: { responseId: started.responseId, playedMs: 1000 } });
    c.send({ case: 'interrupt', value: {} });
    const done = await c.next('responseDone');
    assert.equal(done.status, pb.ResponseStatus.INTERRUPTED);
    c.send({ case: 'text', value: { text: 'thanks' } });
    await c.next('responseText', (r) => r.responseId !== started.responseId); // the LLM has the request
    const assistant = llm.requests[before + 1]?.messages.find((m) => m.role === 'assistant');
    assert.ok(assistant && assistant.content.length > 0 && assistant.content.length < LONG_REPLY.length, `cut history: ${assistant?.content}`);
    assert.ok(LONG_REPLY.startsWith(assistant.content), assistant.content);
    await c.close();
  });
});

void describe('bad input on the WebSocket gets an error and the server keeps serving', () => {
  void it('a text frame where binary is expected gets invalid_argument and the socket stays open', async () => {
    const c = await connectVoiceWs(url());
    c.ws.send('{"type":"start"}');
    const error = await nextError(c, 0);
    assert.equal(error.code, pb.ErrorCode.INVALID_ARGUMENT);
    assert.equal(error.sessionContinues, true);
    assert.match(error.message, /text frame came where a binary frame was expected/);
    llm.setReply('Still here.');
    c.send({ case: 'start', value: {} });
    c.send({ case: 'text', value: { text: 'are you there' } });
    assert.equal((await c.next('responseDone')).heardText, 'Still here.');
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    await c.close();
  });

  void it('bytes that are not a ConverseRequest, an empty request and messages out of order are answered', async () => {
    const c = await connectVoiceWs(url());
    c.send({ case: 'audio', value: { data: new Uint8Array(320) } });
    assert.match((await nextError(c, 0)).message, /must be start/);
    let from = c.events.length;
    c.ws.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const garbage = await nextError(c, from);
    assert.equal(garbage.code, pb.ErrorCode.INVALID_ARGUMENT);
    assert.match(garbage.message, /not a valid voice\.v1\.ConverseRequest/);
    from = c.events.length;
    c.send({ case: undefined });
    assert.match((await nextError(c, from)).message, /no event set/);
    from = c.events.length;
    c.send({ case: 'start', value: { settings: { inputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: 1_000_000_000 } } } });
    assert.match((await nextError(c, from)).message, /sample_rate_hz 1000000000 is out of range/);
    from = c.events.length;
    c.send({ case: 'start', value: {} });
    c.send({ case: 'audio', value: { data: new Uint8Array(321) } });
    const odd = await nextError(c, from);
    assert.equal(odd.sessionContinues, true);
    assert.match(odd.message, /2-byte samples/);
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    await healthyTurn();
    await c.close();
  });

  void it('a frame over MAX_MESSAGE_BYTES closes that socket with 1009 and a reason; others go on', async () => {
    const bystander = await connectVoiceWs(url());
    bystander.send({ case: 'start', value: {} });
    await bystander.next('ready');
    const c = await connectVoiceWs(url());
    c.send({ case: 'start', value: {} });
    c.send({ case: 'audio', value: { data: new Uint8Array(MAX_MESSAGE_BYTES * 2) } });
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, /larger than MAX_MESSAGE_BYTES \(262144 bytes\)/);
    llm.setReply('Still here.');
    bystander.send({ case: 'text', value: { text: 'are you there' } });
    assert.equal((await bystander.next('responseDone')).heardText, 'Still here.');
    await bystander.close();
  });

  void it('a client that stops reading is disconnected with 1008 and a reason', async () => {
    llm.setReply(LONG_REPLY.repeat(20));
    const c = await connectVoiceWs(url());
    c.ws.pause(); // stop reading: the socket buffers fill, then the session's queue
    // At 48 kHz the reply is minutes of audio: far more than the kernel's socket buffers hold.
    c.send({ case: 'start', value: { settings: { outputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: 48000 } } } });
    c.send({ case: 'text', value: { text: 'talk for a long time' } });
    await healthyTurn(); // meanwhile, others are served
    for (let i = 0; i < 1200 && !gateway.output().includes('the client stopped reading'); i++) await new Promise((r) => setTimeout(r, 25));
    assert.match(gateway.output(), /the client stopped reading: more than 65536 bytes were waiting/);
    c.ws.resume(); // reading again within the grace, it gets the close frame after the backlog
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /the client stopped reading/);
  });

  void it('random bytes on the HTTP port and a wrong path do not hurt the server', async () => {
    const wrong = new WebSocket(`ws://127.0.0.1:${gateway.httpPort}/v1/nothing`);
    const failed = await new Promise<string>((resolve) => {
      wrong.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      wrong.on('error', (e) => resolve(e.message));
    });
    assert.match(failed, /404/);
    const raw = new WebSocket(url());
    await new Promise((resolve) => raw.once('open', resolve));
    const rawSocket = (raw as unknown as { _socket: import('node:net').Socket })._socket;
    rawSocket.write(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))); // not WebSocket framing
    const code = await new Promise<number>((resolve) => raw.once('close', resolve));
    assert.ok(code === 1002 || code === 1006 || code === 1007 || code === 1009, `closed with ${code}`);
    await healthyTurn();
  });
});

void describe('credentials on the WebSocket', () => {
  let secured: GatewayProcess;
  const { key, line } = newApiKey('browser');
  before(async () => {
    secured = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl, AUTH_MODE: 'api_key', API_KEYS: line });
  });
  after(async () => {
    await secured.stop();
  });

  void it('a socket without a key is closed with 1008 and the reason', async () => {
    const c = await connectVoiceWs(`ws://127.0.0.1:${secured.httpPort}/v1/voice`, { protocols: ['voice.v1'] });
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.ok(closed.reason.length > 0, 'a reason to act on');
    assert.ok(!closed.reason.includes(key));
  });

  void it('a browser passes its key as a second subprotocol, which is never echoed', async () => {
    llm.setReply('Still here.');
    const c = await connectVoiceWs(`ws://127.0.0.1:${secured.httpPort}/v1/voice`, { protocols: ['voice.v1', `voice-gateway-key.${key}`] });
    assert.equal(c.ws.protocol, 'voice.v1');
    c.send({ case: 'start', value: {} });
    c.send({ case: 'text', value: { text: 'are you there' } });
    assert.equal((await c.next('responseDone')).heardText, 'Still here.');
    await c.close();
  });

  void it('a program may send the key as a bearer header instead', async () => {
    const c = await connectVoiceWs(`ws://127.0.0.1:${secured.httpPort}/v1/voice`, { headers: { authorization: `Bearer ${key}` } });
    c.send({ case: 'start', value: {} });
    assert.match((await c.next('ready')).sessionId, /^sess_/);
    await c.close();
  });
});
