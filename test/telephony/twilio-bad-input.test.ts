/**
 * Bad input on the Twilio endpoint: every message that cannot be used is answered in the log with
 * what was wrong and what is accepted (a carrier has no error channel), the call goes on, and the
 * process keeps serving other calls. A stream that never starts is closed. (This gateway collects
 * key presses until #, TELEPHONY_DTMF_MODE=until_hash, tested at the end.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mulawSilence, mulawTone } from '../support/phone-audio.js';
import { eventually, startTelephonyGateway, type TelephonyGateway } from '../support/telephony-gateway.js';
import { TwilioPeer } from '../support/twilio-peer.js';

let phone: TelephonyGateway;
before(async () => {
  phone = await startTelephonyGateway({ reply: () => ['Still ', 'here ', 'and ', 'listening.'], env: { START_TIMEOUT_MS: '1000', TELEPHONY_MAX_FRAME_MS: '200', TELEPHONY_DTMF_MODE: 'until_hash' } });
});
after(() => phone.close());

const streamUrl = () => `${phone.wsBase}/v1/telephony/twilio`;
const newWarnings = (from: number) => phone.warnings().slice(from);

/** A spoken turn on `peer` gets a reply it hears: the call still works. */
async function stillTalks(peer: TwilioPeer): Promise<void> {
  const before = phone.llm.requests.length;
  const heard = peer.heardMs;
  await peer.speak(mulawTone(600));
  await peer.speak(mulawSilence(600));
  await eventually(() => phone.llm.requests.length > before && peer.heardMs > heard + 300, 'a reply to a spoken turn');
}

void describe('bad input on a Twilio stream', () => {
  void it('unknown events, bad JSON, binary frames, bad base64, wrong payload sizes and bad keys are logged and the call goes on', async () => {
    const opened = phone.sessionsOpened();
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { greeting: '' } });
    await phone.admitted(opened);
    const from = phone.warnings().length;
    const sid = peer.streamSid;
    peer.send({ event: 'transcription', streamSid: sid });
    peer.ws.send('{not json');
    peer.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    peer.send({ event: 'media', streamSid: sid, media: { track: 'inbound', payload: 'not*base64!' } });
    peer.send({ event: 'media', streamSid: sid, media: { track: 'inbound', payload: '' } });
    peer.send({ event: 'media', streamSid: sid, media: { track: 'inbound', payload: Buffer.alloc(8000).toString('base64') } });
    peer.send({ event: 'media', streamSid: sid, media: { track: 'outbound', payload: Buffer.alloc(160).toString('base64') } });
    peer.send({ event: 'media', streamSid: sid });
    peer.send({ event: 'dtmf', streamSid: sid, dtmf: { digit: 'Z' } });
    peer.send({ event: 'start', streamSid: sid, start: { streamSid: sid } });
    const expected = [
      /unknown event "transcription": expected one of connected, start, media, dtmf, mark, stop/,
      /not JSON/,
      /binary frame came/,
      /media.payload is not base64/,
      /carried no audio/,
      /carried 8000 bytes of mu-law: at most 1600 \(TELEPHONY_MAX_FRAME_MS\)/,
      /track "outbound" was dropped/,
      /no media.payload/,
      /dtmf.digit "Z" is not a key/,
      /a second start message came/,
    ];
    await eventually(() => newWarnings(from).length >= expected.length, 'a warning for each bad message');
    const warnings = newWarnings(from);
    for (const pattern of expected) assert.ok(warnings.some((w) => pattern.test(w)), `${pattern} in:\n${warnings.join('\n')}`);
    await stillTalks(peer);
    peer.hangUp();
    await peer.closed;
  });

  void it('media before start is refused without a session; the stream then starts normally', async () => {
    const from = phone.warnings().length;
    const peer = await TwilioPeer.connect(streamUrl(), { silent: true });
    peer.send({ event: 'media', media: { payload: Buffer.alloc(160).toString('base64') } });
    await eventually(() => newWarnings(from).some((w) => /a media message came before start/.test(w)), 'the early media refused');
    peer.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    peer.send({ event: 'start', streamSid: peer.streamSid, start: { streamSid: peer.streamSid, callSid: 'CA1', customParameters: {}, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } });
    await stillTalks(peer);
    peer.hangUp();
    await peer.closed;
  });

  void it('a stream that never starts is closed after START_TIMEOUT_MS', async () => {
    const peer = await TwilioPeer.connect(streamUrl(), { silent: true });
    const closed = await peer.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /no start message came within 1 s \(START_TIMEOUT_MS\)/);
  });

  void it('a stream in another media format is refused with the format it should use', async () => {
    const peer = await TwilioPeer.connect(streamUrl(), {
      start: { event: 'start', streamSid: 'MZ1', start: { streamSid: 'MZ1', mediaFormat: { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 } } },
    });
    const closed = await peer.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /takes audio\/x-mulaw/);
  });

  void it('after all that, a fresh call is served', async () => {
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { greeting: '' } });
    await stillTalks(peer);
    peer.hangUp();
    await peer.closed;
  });
});

void describe('DTMF collected until #', () => {
  void it('digits pressed before # reach the conversation as one entry', async () => {
    const opened = phone.sessionsOpened();
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { greeting: '' } });
    await phone.admitted(opened);
    const before = phone.llm.requests.length;
    for (const digit of ['4', '2', '7', '#']) peer.pressKey(digit);
    const request = await eventually(() => phone.llm.requests[before], 'the LLM request');
    assert.equal(request.filter((m) => m.role === 'user').at(-1)?.content, '[entered 427]');
    assert.equal(phone.llm.requests.length, before + 1, 'one request for the whole entry');
    peer.hangUp();
    await peer.closed;
  });
});
