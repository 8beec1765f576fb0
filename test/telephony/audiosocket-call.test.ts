/**
 * A phone call through Asterisk AudioSocket (TCP, AUDIOSOCKET_PORT), with the scripted
 * AudioSocket() of test/support/audiosocket-client.ts: UUID, then signed-linear audio in 20 ms
 * messages both ways. Asterisk plays what arrives at once, so the gateway must pace its audio in
 * real time and a barge-in can only stop what has not been sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AudioSocketClient } from '../support/audiosocket-client.js';
import { slinSilence, slinTone } from '../support/phone-audio.js';
import { eventually, lastUser, startTelephonyGateway, weatherLine, WEATHER_REPLY, type TelephonyGateway } from '../support/telephony-gateway.js';

const GREETING = 'You are through to the weather line.';
const LONG_REPLY = WEATHER_REPLY;

let phone: TelephonyGateway;
let port = 0;
before(async () => {
  phone = await startTelephonyGateway({
    reply: weatherLine,
    env: { AUDIOSOCKET_PORT: '0', TELEPHONY_GREETING: GREETING, TELEPHONY_END_PHRASES: 'goodbye', START_TIMEOUT_MS: '1000' },
  });
  port = phone.gateway.audioSocketPort!;
});
after(() => phone.close());

const request = (index: number) => eventually(() => phone.llm.requests[index], `LLM request ${index + 1}`);

/**
 * Audio came at the pace it plays, not in bursts: over the call, the audio received is no more
 * than the time it took to arrive (a second of slack for this process's own pauses; an unpaced
 * sender would deliver a 6 s reply in a few hundred ms).
 */
function assertPaced(client: AudioSocketClient, rateHz = 8000): void {
  const first = client.audio[0]!.at;
  const last = client.audio.at(-1)!.at;
  const audioMs = (client.audio.reduce((n, a) => n + a.bytes, 0) * 1000) / (rateHz * 2);
  assert.ok(audioMs <= last - first + 1000, `audio ran ahead of real time: ${Math.round(audioMs)} ms of audio in ${Math.round(last - first)} ms`);
}

/** Starts a call and waits for its greeting to have been heard whole. */
async function greeted(): Promise<AudioSocketClient> {
  const client = await AudioSocketClient.connect(port);
  await client.speak(slinSilence(100));
  await eventually(() => client.heardMs() >= GREETING.length * 50, 'the greeting heard');
  return client;
}

void describe('a phone call over AudioSocket', () => {
  void it('greets on the first audio, answers a question, and paces its audio in real time in 20 ms messages', async () => {
    const before = phone.llm.requests.length;
    const client = await greeted();
    await client.speak(slinTone(700));
    await client.speak(slinSilence(600));
    const messages = await request(before);
    assert.equal(messages[1]!.content, GREETING);
    await eventually(() => client.heardMs() >= 4000, 'the reply playing');
    assert.ok(client.audio.every((a) => a.kind === 0x10 && a.bytes === 320), 'slin 8 kHz, 320 bytes (20 ms) per message');
    assertPaced(client);
    client.hangUp();
    await client.ended;
  });

  void it('a barge-in stops the audio at once and the history keeps what was sent', async () => {
    const client = await greeted();
    const before = phone.llm.requests.length;
    await client.speak(slinTone(700));
    await client.speak(slinSilence(600));
    await request(before);
    await eventually(() => client.heardMs() >= GREETING.length * 50 + 1500, 'part of the reply heard');
    const bargeIns = () => phone.logs.filter((l) => l.msg === 'turn' && l.bargeIn === true).length;
    const bargeInsBefore = bargeIns();
    const speaking = client.speak(slinTone(900));
    await eventually(() => bargeIns() > bargeInsBefore, 'the barge-in');
    const heardAtBargeIn = client.heardMs();
    await speaking;
    await client.speak(slinSilence(600));
    const cut = (await request(before + 1)).find((m) => m.role === 'assistant' && m.content !== GREETING)!.content;
    assert.ok(cut.length > 0 && cut.length < LONG_REPLY.length * 0.8 && LONG_REPLY.startsWith(cut), `history cut: "${cut}"`);
    // From the barge-in to the next reply's request, the interrupted reply sent (almost) nothing more:
    // the seconds it had left were dropped before they were sent.
    const after = client.heardMs() - heardAtBargeIn;
    assert.ok(after <= 500, `${after} ms of the interrupted reply arrived after the barge-in`);
    assertPaced(client);
    client.hangUp();
    await client.ended;
  });

  void it('a key press reaches the conversation; the agent hangs up after its goodbye with a hangup message', async () => {
    const client = await greeted();
    const before = phone.llm.requests.length;
    client.pressKey('5');
    assert.equal(lastUser(await request(before)), '[pressed 5]');
    await eventually(() => phone.logs.filter((l) => l.msg === 'turn').length > 0, 'the answer');
    client.pressKey('9');
    await client.ended;
    assert.ok(client.hangupReceived, 'the gateway sent the AudioSocket hangup message');
    await eventually(() => phone.logs.find((l) => l.msg === 'session closed' && l.cause === 'agent_ended'), 'agent_ended');
  });

  void it('a caller who hangs up mid-reply ends the session as client_gone (not left waiting for a resume), nothing logged as an error', async () => {
    const client = await greeted();
    const before = phone.llm.requests.length;
    const warnings = phone.warnings().length;
    const gone = phone.logs.filter((l) => l.cause === 'client_gone').length;
    await client.speak(slinTone(700));
    await client.speak(slinSilence(600));
    await request(before);
    await eventually(() => client.heardMs() > GREETING.length * 50 + 300, 'the reply playing');
    client.hangUp();
    await eventually(() => phone.logs.filter((l) => l.cause === 'client_gone').length > gone, 'client_gone');
    assert.match(String(phone.logs.filter((l) => l.cause === 'client_gone').at(-1)?.reason), /hung up mid-reply|connection closed/);
    assert.deepEqual(phone.warnings().slice(warnings), []);
    await eventually(() => phone.gateway.activeSessions === 0, 'no session left waiting for a resume the carrier cannot make');
  });

  void it('a 16 kHz call (kind 0x12) is answered at 16 kHz', async () => {
    const rates = phone.tts.rates.length;
    const client = await AudioSocketClient.connect(port);
    await client.speak(slinSilence(100, 16000), 0x12);
    await eventually(() => client.audio.length > 10, 'the greeting playing');
    assert.ok(client.audio.every((a) => a.kind === 0x12 && a.bytes === 640));
    assert.ok(phone.tts.rates.slice(rates).every((rate) => rate === 16000));
    client.hangUp();
    await client.ended;
  });
});

void describe('bad input on AudioSocket', () => {
  void it('unknown kinds, odd or oversize audio, a bad UUID and a bad DTMF are logged and the call goes on', async () => {
    const from = phone.warnings().length;
    const client = await AudioSocketClient.connect(port, Buffer.alloc(7));
    client.send(0x17, Buffer.alloc(3840));
    await client.speak(slinSilence(100));
    client.send(0x42, Buffer.alloc(2));
    client.send(0x10, Buffer.alloc(321));
    client.send(0x10, Buffer.alloc(64000));
    client.send(0x03, Buffer.from('12'));
    client.send(0x12, Buffer.alloc(640));
    const expected = [/UUID message of 7 bytes/, /kind 0x17 is at a rate/, /unknown AudioSocket message kind 0x42/, /321 bytes came: slin audio is 2-byte samples/, /64000 bytes came: at most/, /DTMF message must carry one key/, /the rate cannot change/];
    await eventually(() => phone.warnings().length >= from + expected.length, 'every problem logged');
    const warnings = phone.warnings().slice(from);
    for (const pattern of expected) assert.ok(warnings.some((w) => pattern.test(w)), `${pattern} in:\n${warnings.join('\n')}`);
    await eventually(() => client.heardMs() > 500, 'the greeting still plays');
    client.hangUp();
    await client.ended;
  });

  void it('a connection that never sends audio is hung up after START_TIMEOUT_MS', async () => {
    const client = await AudioSocketClient.connect(port);
    await client.ended;
    assert.ok(client.hangupReceived);
  });
});
