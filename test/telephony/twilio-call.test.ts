/**
 * A phone call through Twilio Media Streams, as Twilio makes it: the scripted Twilio peer
 * (test/support/twilio-peer.ts) dials the gateway's stream over a real WebSocket, speaks mu-law at
 * real-time pace and plays the reply the way Twilio does (marks echoed once played, `clear` drops
 * the queue). The gateway runs in this process with scripted providers it can inspect.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatMessage } from '../../src/providers/types.js';
import { mulawSilence, mulawSpeech, mulawTone } from '../support/phone-audio.js';
import { eventually, startTelephonyGateway, type TelephonyGateway } from '../support/telephony-gateway.js';
import { TwilioPeer } from '../support/twilio-peer.js';

const GREETING = 'Hello, this is the weather line.';
const LONG_REPLY = 'It will be sunny in the morning. Clouds will come in the afternoon. Rain is likely by the evening. Take an umbrella with you.';
const lastUser = (messages: ChatMessage[]) => messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

function script(messages: ChatMessage[]): string[] {
  const said = lastUser(messages);
  if (said === '[pressed 5]') return ['You ', 'pressed ', 'five.'];
  if (said === '[pressed 9]') return ['Thank ', 'you ', 'for ', 'calling, ', 'goodbye.'];
  return LONG_REPLY.split(/(?<= )/);
}

let phone: TelephonyGateway;
const streamUrl = () => `${phone.wsBase}/v1/telephony/twilio`;

before(async () => {
  phone = await startTelephonyGateway({ reply: script, env: { TELEPHONY_GREETING: GREETING, TELEPHONY_END_PHRASES: 'goodbye, see you' } });
});
after(() => phone.close());

/** The LLM request that followed `count` earlier ones. */
const request = (index: number) => eventually(() => phone.llm.requests[index], `LLM request ${index + 1}`);

void describe('a phone call over Twilio Media Streams', () => {
  void it('greets the caller, hears a spoken question and plays the reply in 8 kHz mu-law, with marks as playback', async () => {
    const before = phone.llm.requests.length;
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { instructions: 'You answer weather questions.', caller: '+15550100' } });
    // The greeting plays first: its audio arrives and its marks come back only once played.
    // The greeting plays whole (the caller waits for it, or it would be a barge-in).
    await eventually(() => peer.heardMs >= GREETING.length * 50 && peer.echoedMarks.length === peer.received.filter((m) => m.event === 'mark').length, 'the greeting heard whole');
    await peer.speak(await mulawSpeech('what is the weather like today'));
    await peer.speak(mulawSilence(900));
    const messages = await request(before);
    assert.deepEqual(
      messages.map((m) => m.role),
      ['system', 'assistant', 'user'],
    );
    assert.equal(messages[0]!.content, 'You answer weather questions.', 'the allow-listed instructions parameter reached the session');
    assert.equal(messages[1]!.content, GREETING, 'the greeting is in the history, heard whole');
    assert.equal(messages[2]!.content, 'what is the weather');
    await eventually(() => peer.heardMs >= 3000, 'reply audio playing');
    assert.ok(phone.tts.rates.length > 0 && phone.tts.rates.every((rate) => rate === 8000), `TTS asked for 8 kHz directly: ${phone.tts.rates.join(',')}`);
    const media = peer.received.filter((m) => m.event === 'media');
    const marks = peer.received.filter((m) => m.event === 'mark');
    assert.ok(media.length > 10 && marks.length === media.length, `a mark after every media message (${media.length} media, ${marks.length} marks)`);
    assert.ok(peer.echoedMarks.length > 0 && peer.received.every((m) => m.event !== 'clear'));
    peer.hangUp();
    await peer.closed;
  });

  void it('a barge-in gets clear, the queued reply is dropped and the history keeps what was heard', async () => {
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { greeting: '' } });
    const before = phone.llm.requests.length;
    await peer.speak(mulawTone(700));
    await peer.speak(mulawSilence(600));
    await request(before);
    await peer.talkOver(1500, 'a second and a half of the reply heard'); // the caller talks over the agent
    const next = await request(before + 1);
    const cut = next.find((m) => m.role === 'assistant')!.content;
    assert.ok(cut.length > 0 && cut.length < LONG_REPLY.length && LONG_REPLY.startsWith(cut), `history cut to what was played: "${cut}"`);
    // What was heard is about what the history says: the 1.5 s+ played, not the whole reply sent.
    const fullMs = LONG_REPLY.length * 50;
    const heardShare = cut.length / LONG_REPLY.length;
    assert.ok(heardShare < 0.8, `the cut (${Math.round(heardShare * fullMs)} ms of ${fullMs}) is far from the whole reply`);
    peer.hangUp();
    await peer.closed;
  });

  void it('a key press reaches the conversation as text the LLM reads', async () => {
    const opened = phone.sessionsOpened();
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { greeting: '' } });
    const before = phone.llm.requests.length;
    await phone.admitted(opened);
    peer.pressKey('5');
    assert.equal(lastUser(await request(before)), '[pressed 5]');
    await eventually(() => peer.heardMs > 500, 'the answer played');
    peer.hangUp();
    await peer.closed;
  });

  void it('a caller who hangs up mid-reply ends the session as client_gone (not left waiting for a resume), with nothing logged as an error', async () => {
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { greeting: '' } });
    const before = phone.llm.requests.length;
    const warningsBefore = phone.warnings().length;
    await peer.speak(mulawTone(700));
    await peer.speak(mulawSilence(600));
    await request(before);
    await eventually(() => peer.heardMs > 300, 'the reply playing');
    peer.hangUp();
    const closed = await eventually(() => phone.logs.find((l) => l.msg === 'session closed' && l.cause === 'client_gone'), 'the session closed as client_gone');
    assert.match(String(closed.reason), /hung up mid-reply/);
    assert.deepEqual(phone.warnings().slice(warningsBefore), [], 'no warning or error logged');
    await eventually(() => phone.gateway.activeSessions === 0, 'no session left waiting for a resume the carrier cannot make');
  });

  void it('the agent hangs up once its goodbye has been heard: the stream closes normally', async () => {
    const opened = phone.sessionsOpened();
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { greeting: '' } });
    await phone.admitted(opened);
    peer.pressKey('9');
    const closed = await peer.closed;
    assert.equal(closed.code, 1000);
    assert.match(closed.reason, /agent ended the call/);
    const received = peer.receivedAudioMs();
    assert.ok(received > 1000 && peer.heardMs >= received - 20, `the goodbye was heard whole before the hang-up (${peer.heardMs} of ${received} ms)`);
    await eventually(() => phone.logs.find((l) => l.msg === 'session closed' && l.cause === 'agent_ended'), 'the session closed as agent_ended');
  });

  void it('a bad call parameter is dropped with a warning and the call goes on with the defaults', async () => {
    const warningsBefore = phone.warnings().length;
    const peer = await TwilioPeer.connect(streamUrl(), { customParameters: { language: 'not a language!', greeting: 'Hello there, caller.' } });
    await eventually(() => peer.heardMs > 200, 'the greeting playing');
    assert.ok(phone.warnings().slice(warningsBefore).some((w) => /parameter language was ignored/.test(w)), phone.warnings().join('\n'));
    peer.hangUp();
    await peer.closed;
  });

  void it('serves a Telnyx-shaped start (snake_case ids and media_format)', async () => {
    const peer = await TwilioPeer.connect(streamUrl(), {
      start: { event: 'start', sequence_number: '1', stream_id: 'telnyx-stream', start: { call_control_id: 'v3:abc', media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 }, custom_parameters: { greeting: 'Hi there.' } } },
    });
    // Replies are addressed to the stream id the start named.
    (peer as unknown as { streamSid: string }).streamSid = 'telnyx-stream';
    await eventually(() => peer.heardMs > 200, 'the greeting playing');
    peer.hangUp();
    await peer.closed;
  });
});
