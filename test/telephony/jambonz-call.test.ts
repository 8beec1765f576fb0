/**
 * A phone call through jambonz's `listen` verb, with the scripted jambonz of
 * test/support/jambonz-peer.ts over a real WebSocket: the application webhook's verbs, call
 * metadata then L16 audio both ways, the reply paced a lead ahead of the ear, killAudio on
 * barge-in, DTMF, hang-up by either side, and bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newApiKey } from '../../src/auth/api-keys.js';
import { JambonzPeer } from '../support/jambonz-peer.js';
import { slinSilence, slinTone } from '../support/phone-audio.js';
import { eventually, lastUser, startTelephonyGateway, weatherLine, WEATHER_REPLY, type TelephonyGateway } from '../support/telephony-gateway.js';

const LONG_REPLY = WEATHER_REPLY;
const LEAD_MS = 400;
const key = newApiKey('jambonz');

let phone: TelephonyGateway;
before(async () => {
  phone = await startTelephonyGateway({
    reply: weatherLine,
    env: { AUTH_MODE: 'api_key', API_KEYS: key.line, TELEPHONY_END_PHRASES: 'goodbye', TELEPHONY_PLAYOUT_LEAD_MS: String(LEAD_MS), START_TIMEOUT_MS: '1000' },
  });
});
after(() => phone.close());

const request = (index: number) => eventually(() => phone.llm.requests[index], `LLM request ${index + 1}`);

/** A call as the webhook's listen verb says to make it. */
async function call(query: Record<string, string> = { greeting: '' }): Promise<JambonzPeer> {
  const hook = await fetch(`${phone.httpBase}/v1/telephony/jambonz/hook?${new URLSearchParams({ key: key.key, ...query }).toString()}`, { method: 'POST', body: '{}' });
  const [listen] = (await hook.json()) as Array<{ url: string; sampleRate: number }>;
  const opened = phone.sessionsOpened();
  const peer = await JambonzPeer.connect(listen!.url, listen!.sampleRate, { metadata: { instructions: 'Answer about the weather.' } });
  await phone.admitted(opened);
  return peer;
}

void describe('a phone call through jambonz listen', () => {
  void it('the webhook answers with listen (bidirectional streaming at 8 kHz, DTMF) then hangup; the call greets, hears and replies paced', async () => {
    const hook = await fetch(`${phone.httpBase}/v1/telephony/jambonz/hook?key=${key.key}&greeting=Hi%20there&caller=ignored`, { method: 'POST', body: '{"call_sid":"x"}' });
    assert.equal(hook.headers.get('content-type'), 'application/json');
    const verbs = (await hook.json()) as Array<Record<string, unknown>>;
    assert.deepEqual(verbs, [
      {
        verb: 'listen',
        url: `${phone.wsBase}/v1/telephony/jambonz?greeting=Hi+there&key=${key.key}`,
        sampleRate: 8000,
        mixType: 'mono',
        passDtmf: true,
        bidirectionalAudio: { enabled: true, streaming: true, sampleRate: 8000 },
      },
      { verb: 'hangup' },
    ]);
    const before = phone.llm.requests.length;
    const peer = await call({ greeting: 'Welcome to the weather line.' });
    await eventually(() => peer.heardMs >= 'Welcome to the weather line.'.length * 50, 'the greeting heard');
    await peer.speak(slinTone(700));
    await peer.speak(slinSilence(600));
    const messages = await request(before);
    assert.equal(messages[0]!.content, 'Answer about the weather.', 'the verb metadata set the instructions');
    assert.equal(messages[1]!.content, 'Welcome to the weather line.', 'the URL set the greeting');
    await eventually(() => peer.heardMs >= 3000, 'the reply playing');
    assert.ok(peer.maxQueuedBytes <= ((LEAD_MS + 40) * 16000) / 1000, `never more than the lead queued at jambonz (${peer.maxQueuedBytes} bytes)`);
    assert.ok(phone.tts.rates.every((rate) => rate === 8000));
    peer.hangUp();
    await peer.closed;
  });

  void it('a barge-in sends killAudio and the history keeps what was heard; DTMF reaches the LLM; the agent hangs up after its goodbye', async () => {
    const peer = await call();
    const before = phone.llm.requests.length;
    await peer.speak(slinTone(700));
    await peer.speak(slinSilence(600));
    await request(before);
    await eventually(() => peer.heardMs >= 1500, 'a second and a half of the reply heard');
    await peer.speak(slinTone(600)); // the caller talks over the agent
    await eventually(() => peer.commands.some((c) => c.type === 'killAudio'), 'killAudio');
    await peer.speak(slinSilence(600));
    const cut = (await request(before + 1)).find((m) => m.role === 'assistant')!.content;
    assert.ok(cut.length > 0 && cut.length < LONG_REPLY.length && LONG_REPLY.startsWith(cut), `history cut to what was played: "${cut}"`);
    peer.pressKey('9');
    assert.equal(lastUser(await request(before + 2)), '[pressed 9]');
    const closed = await peer.closed;
    assert.equal(closed.code, 1000, `closed normally: ${closed.reason}`);
    assert.ok(peer.unplayedAtCloseMs <= 40, `the goodbye was heard whole before the close (${peer.unplayedAtCloseMs} ms left unplayed)`);
  });

  void it('bad input gets a clear refusal and the call survives; a wrong rate is refused at the metadata', async () => {
    const peer = await call();
    peer.ws.send(Buffer.alloc(3), { binary: true }); // an odd number of bytes
    peer.ws.send('not json');
    peer.pressKey('x');
    await eventually(() => phone.warnings().filter((w) => /2-byte samples|not a JSON object|not a key/.test(w)).length >= 3, 'three refusals logged');
    const before = phone.llm.requests.length;
    peer.pressKey('5');
    assert.equal(lastUser(await request(before)), '[pressed 5]', 'the call goes on');
    peer.hangUp();
    await peer.closed;

    const wide = await JambonzPeer.connect(`${phone.wsBase}/v1/telephony/jambonz?key=${key.key}`, 64000);
    await eventually(() => phone.warnings().some((w) => /sampleRate "64000" is not served/.test(w)), 'the 64 kHz stream refused');
    wide.hangUp();
    await wide.closed;
  });

  void it('a stream without the gateway key is refused at the upgrade', async () => {
    const opened = phone.sessionsOpened();
    await assert.rejects(JambonzPeer.connect(`${phone.wsBase}/v1/telephony/jambonz`), /401/);
    assert.equal(phone.sessionsOpened(), opened);
  });
});
