/**
 * A phone call through Asterisk's WebSocket channel (chan_websocket), with the scripted Asterisk
 * of test/support/asterisk-peer.ts over a real WebSocket: binary media both ways, text control
 * messages, FLUSH_MEDIA on barge-in, MEDIA_XOFF/XON, DTMF_END, HANGUP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newApiKey } from '../../src/auth/api-keys.js';
import { AsteriskPeer } from '../support/asterisk-peer.js';
import { mulawSilence, mulawTone, slinSilence, slinTone } from '../support/phone-audio.js';
import { eventually, lastUser, startTelephonyGateway, weatherLine, WEATHER_REPLY, type TelephonyGateway } from '../support/telephony-gateway.js';

const LONG_REPLY = WEATHER_REPLY;
const LEAD_MS = 400;
const key = newApiKey('pbx');

let phone: TelephonyGateway;
before(async () => {
  phone = await startTelephonyGateway({
    reply: weatherLine,
    env: { AUTH_MODE: 'api_key', API_KEYS: key.line, TELEPHONY_END_PHRASES: 'goodbye', TELEPHONY_PLAYOUT_LEAD_MS: String(LEAD_MS), START_TIMEOUT_MS: '1000' },
  });
});
after(() => phone.close());

const url = (query = '') => `${phone.wsBase}/v1/telephony/asterisk${query}`;
const request = (index: number) => eventually(() => phone.llm.requests[index], `LLM request ${index + 1}`);

async function call(query = '?greeting=', format = 'ulaw', frameBytes = 160): Promise<AsteriskPeer> {
  const opened = phone.sessionsOpened();
  const peer = await AsteriskPeer.dial(url(query), { password: key.key, frameBytes });
  peer.start(format);
  await phone.admitted(opened);
  return peer;
}

void describe('a phone call over Asterisk chan_websocket', () => {
  void it('greets, hears the caller and plays the reply in whole 20 ms frames, paced a lead ahead of the ear', async () => {
    const before = phone.llm.requests.length;
    const peer = await call(`?greeting=${encodeURIComponent('Welcome to the weather line.')}&instructions=${encodeURIComponent('Be brief.')}`);
    await eventually(() => peer.heardMs >= 'Welcome to the weather line.'.length * 50, 'the greeting heard');
    await peer.speak(mulawTone(700));
    await peer.speak(mulawSilence(600));
    const messages = await request(before);
    assert.equal(messages[0]!.content, 'Be brief.');
    assert.equal(messages[1]!.content, 'Welcome to the weather line.');
    await eventually(() => peer.heardMs >= 3000, 'the reply playing');
    assert.equal(peer.droppedBytes, 0, 'every media message was a whole number of frames');
    assert.ok(peer.maxQueued * 20 <= LEAD_MS + 40, `never more than the lead queued at Asterisk (${peer.maxQueued * 20} ms)`);
    assert.ok(phone.tts.rates.every((rate) => rate === 8000));
    peer.hangUp();
    await peer.closed;
  });

  void it('a barge-in sends FLUSH_MEDIA and the history keeps what was heard', async () => {
    const peer = await call();
    const before = phone.llm.requests.length;
    await peer.speak(mulawTone(700));
    await peer.speak(mulawSilence(600));
    await request(before);
    await eventually(() => peer.heardMs >= 1500, 'part of the reply heard');
    const speaking = peer.speak(mulawTone(900));
    await eventually(() => peer.commands.includes('FLUSH_MEDIA'), 'FLUSH_MEDIA');
    await speaking;
    await peer.speak(mulawSilence(600));
    const cut = (await request(before + 1)).find((m) => m.role === 'assistant')!.content;
    assert.ok(cut.length > 0 && cut.length < LONG_REPLY.length * 0.8 && LONG_REPLY.startsWith(cut), `history cut to what was heard: "${cut}"`);
    peer.hangUp();
    await peer.closed;
  });

  void it('DTMF_END reaches the conversation; MEDIA_XOFF holds the audio until MEDIA_XON', async () => {
    const peer = await call();
    const before = phone.llm.requests.length;
    peer.setXoff(true);
    peer.pressKey('5');
    assert.equal(lastUser(await request(before)), '[pressed 5]');
    // The reply is ready but held: nothing is sent while XOFF is in force.
    await eventually(() => phone.tts.texts.includes('You pressed five.'), 'the reply synthesized');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(peer.receivedFrames, 0, 'no media after MEDIA_XOFF');
    peer.setXoff(false);
    await eventually(() => peer.heardMs > 300, 'the reply plays after MEDIA_XON');
    assert.equal(peer.mediaWhileXoff, 0);
    peer.hangUp();
    await peer.closed;
  });

  void it('the agent hangs up after its goodbye: REPORT_QUEUE_DRAINED, then HANGUP once drained', async () => {
    const peer = await call();
    peer.pressKey('9');
    const closed = await peer.closed;
    assert.deepEqual(peer.commands.slice(-2), ['REPORT_QUEUE_DRAINED', 'HANGUP']);
    assert.equal(peer.heardFrames, peer.receivedFrames, 'every frame sent was heard before the hang-up');
    assert.ok(peer.heardMs > 1000);
    assert.equal(closed.code, 1000);
  });

  void it('a caller who hangs up mid-reply ends the session as client_gone (not left waiting for a resume), nothing logged as an error', async () => {
    const peer = await call();
    const before = phone.llm.requests.length;
    const warnings = phone.warnings().length;
    await peer.speak(mulawTone(700));
    await peer.speak(mulawSilence(600));
    await request(before);
    await eventually(() => peer.heardMs > 200, 'the reply playing');
    peer.hangUp();
    const closed = await eventually(() => phone.logs.find((l) => l.msg === 'session closed' && l.cause === 'client_gone'), 'client_gone');
    assert.match(String(closed.reason), /hung up mid-reply/);
    assert.deepEqual(phone.warnings().slice(warnings), []);
    await eventually(() => phone.gateway.activeSessions === 0, 'no session left waiting for a resume the carrier cannot make');
  });

  void it('slin16 calls run at 16 kHz, and the TTS is asked for 16 kHz', async () => {
    const before = phone.llm.requests.length;
    const rates = phone.tts.rates.length;
    const peer = await call('?greeting=', 'slin16', 640);
    await peer.speak(slinTone(700, 16000));
    await peer.speak(slinSilence(600, 16000));
    await request(before);
    await eventually(() => peer.heardMs > 300, 'the reply playing');
    assert.ok(phone.tts.rates.slice(rates).every((rate) => rate === 16000));
    peer.hangUp();
    await peer.closed;
  });
});

void describe('bad input on the Asterisk channel', () => {
  void it('is logged with what is accepted, and the call goes on', async () => {
    const opened = phone.sessionsOpened();
    const peer = await AsteriskPeer.dial(url('?greeting='), { password: key.key, frameBytes: 320 });
    const from = phone.warnings().length;
    peer.ws.send(Buffer.alloc(160), { binary: true });
    peer.ws.send('DTMF_END');
    await eventually(() => phone.warnings().length >= from + 2, 'early problems logged');
    peer.start('slin');
    await phone.admitted(opened);
    peer.ws.send(Buffer.alloc(321), { binary: true });
    peer.ws.send(Buffer.alloc(32000), { binary: true });
    peer.ws.send('NOT_A_THING x:y');
    peer.ws.send('{"event": 3}');
    peer.pressKey('Q');
    peer.start('slin');
    const expected = [/audio came before MEDIA_START/, /DTMF_END has no digit/, /321 bytes came: slin frames hold 2-byte samples/, /32000 bytes came: at most/, /unknown control message "NOT_A_THING"/, /has no "event"/, /digit "Q" is not a key/, /second MEDIA_START/];
    await eventually(() => phone.warnings().length >= from + expected.length, 'every problem logged');
    const warnings = phone.warnings().slice(from);
    for (const pattern of expected) assert.ok(warnings.some((w) => pattern.test(w)), `${pattern} in:\n${warnings.join('\n')}`);
    const before = phone.llm.requests.length;
    await peer.speak(slinTone(700));
    await peer.speak(slinSilence(600));
    await request(before);
    peer.hangUp();
    await peer.closed;
  });

  void it('refuses a call without the key, a codec it does not serve, and a channel that never starts', async () => {
    // Asterisk logs the status of a refused upgrade: no key is a 401 before any audio.
    await assert.rejects(AsteriskPeer.dial(url()), /Unexpected server response: 401/);
    const opus = await AsteriskPeer.dial(url(), { password: key.key });
    opus.start('opus');
    const refused = await opus.closed;
    assert.equal(refused.code, 1008);
    assert.match(refused.reason, /format "opus" is not served/);
    const silent = await AsteriskPeer.dial(url(), { password: key.key });
    const timedOut = await silent.closed;
    assert.equal(timedOut.code, 1008);
    assert.match(timedOut.reason, /no "start" message came within 1 s/);
  });
});
