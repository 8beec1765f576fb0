/** The phone-call transports' pure pieces, each with its table of cases. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import twilio from 'twilio';
import { readCallParameters } from '../../src/transports/telephony/call-parameters.js';
import { signedUrls, twilioSignature } from '../../src/transports/telephony/carrier-signatures.js';
import { DtmfCollector } from '../../src/transports/telephony/dtmf.js';
import { parseEndPhrases, saysEndPhrase } from '../../src/transports/telephony/end-phrases.js';
import { MarkTracker } from '../../src/transports/telephony/twilio/mark-tracker.js';
import { readTwilioMessage } from '../../src/transports/telephony/twilio/messages.js';
import { asteriskFormat, readAsteriskNotification } from '../../src/transports/telephony/asterisk/control-messages.js';
import { encodeMessage, MessageReader } from '../../src/transports/telephony/audiosocket/framing.js';
import { sessionConfig } from '../support/session-harness.js';

void describe('end phrases', () => {
  const phrases = parseEndPhrases('goodbye, see you later,, ');
  const cases: Array<[string, boolean]> = [
    ['Thank you for calling. Goodbye!', true],
    ['GOODBYE', true],
    ['Okay, see you later.', true],
    ['I will not say goodbyes yet.', false],
    ['See you tomorrow.', false],
    ['', false],
  ];
  for (const [text, expected] of cases) void it(`${JSON.stringify(text)} -> ${expected}`, () => assert.equal(saysEndPhrase(text, phrases), expected));
  void it('no phrases: never', () => assert.equal(saysEndPhrase('goodbye', parseEndPhrases('')), false));
});

void describe('DTMF', () => {
  const run = (mode: 'each' | 'until_hash', keys: string, max = 4) => {
    const sent: string[] = [];
    const collector = new DtmfCollector(mode, max, (text) => sent.push(text));
    for (const key of keys) collector.press(key);
    return sent;
  };
  void it('each key at once', () => assert.deepEqual(run('each', '5#'), ['[pressed 5]', '[pressed #]']));
  void it('digits until #', () => assert.deepEqual(run('until_hash', '12#3*#'), ['[entered 12]', '[entered 3*]']));
  void it('a lone # is a press', () => assert.deepEqual(run('until_hash', '#'), ['[pressed #]']));
  void it('at most maxDigits wait', () => assert.deepEqual(run('until_hash', '123456', 4), ['[entered 1234]']));
});

void describe('marks as playback reports', () => {
  void it('an echo reports its position and forgets the marks before it', () => {
    const marks = new MarkTracker();
    const a = marks.add('resp_1', 100);
    const b = marks.add('resp_1', 200);
    const c = marks.add('resp_1', 300);
    assert.deepEqual(marks.echoed(b), { responseId: 'resp_1', playedMs: 200 });
    assert.equal(marks.echoed(a), null, 'an older mark after a newer one adds nothing');
    assert.equal(marks.waiting, 1);
    marks.cleared();
    assert.equal(marks.echoed(c), null, 'marks echoed because of a clear were not played');
    assert.equal(marks.echoed('not-ours'), null);
  });
});

void describe('call parameters', () => {
  const defaults = sessionConfig().defaults;
  void it('takes the allow-listed names, checks them, ignores the rest', () => {
    const read = readCallParameters({ instructions: 'Be kind.', language: 'hi', voice: 'v1', greeting: ' Hi. ', From: '+1555', key: 'secret' }, defaults, 'Default hi.', 100);
    assert.deepEqual(read.patch, { instructions: 'Be kind.', language: 'hi', voice: 'v1' });
    assert.equal(read.greeting, 'Hi.');
    assert.deepEqual(read.problems, []);
  });
  void it('drops a bad value with a reason, and keeps the default greeting', () => {
    const read = readCallParameters({ language: 'no way', greeting: 'x'.repeat(101), instructions: 5 }, defaults, 'Default hi.', 100);
    assert.deepEqual(read.patch, {});
    assert.equal(read.greeting, 'Default hi.');
    assert.equal(read.problems.length, 3);
    assert.match(read.problems.join('\n'), /language was ignored: language "no way" is not a BCP-47 tag/);
  });
});

void describe('Twilio messages', () => {
  const cases: Array<[string, RegExp | string]> = [
    ['{"event":"connected","protocol":"Call","version":"1.0.0"}', 'connected'],
    ['{"event":"media","media":{"payload":"AAAA"}}', 'media'],
    ['{"event":"media","media":{"payload":"AAA"}}', /not base64/],
    ['{"event":"mark","mark":{}}', /no mark.name/],
    ['[1,2]', /not a JSON object/],
    ['{"event":"start","start":{}}', /no start.streamSid/],
    ['{"event":"nope"}', /unknown event "nope"/],
  ];
  for (const [frame, expected] of cases) {
    void it(frame, () => {
      const read = readTwilioMessage(frame);
      if (typeof expected === 'string') assert.equal('event' in read && read.event, expected);
      else assert.match('problem' in read ? read.problem : '', expected);
    });
  }
});

void describe('X-Twilio-Signature', () => {
  void it('matches Twilio\'s own library, repeated form values included', () => {
    const url = 'https://voice.example.com/v1/telephony/twilio/twiml?a=1&b=2';
    const form = new URLSearchParams([['To', '+1'], ['From', '+2'], ['Digits', '2'], ['Digits', '1'], ['Digits', '1']]);
    const official = twilio.getExpectedTwilioSignature('token', url, { To: '+1', From: '+2', Digits: ['2', '1', '1'] });
    assert.equal(twilioSignature('token', url, form), official);
  });
  void it('tries the URL with and without the default port, and both schemes without a public URL', () => {
    const request = { url: '/v1/telephony/twilio', headers: { host: 'gw.example' } } as unknown as IncomingMessage;
    assert.deepEqual(signedUrls(request, 'ws', '', false), ['ws://gw.example/v1/telephony/twilio', 'ws://gw.example:80/v1/telephony/twilio', 'wss://gw.example/v1/telephony/twilio', 'wss://gw.example:443/v1/telephony/twilio']);
    assert.deepEqual(signedUrls(request, 'http', 'https://voice.example.com', true), ['https://voice.example.com/v1/telephony/twilio', 'https://voice.example.com:443/v1/telephony/twilio']);
  });
});

void describe('Asterisk control messages', () => {
  void it('reads plain-text and JSON notifications', () => {
    assert.deepEqual(readAsteriskNotification('MEDIA_START connection_id:abc channel:WebSocket/x-1 channel_id:1.2 format:ulaw optimal_frame_size:160 ptime:20'), {
      event: 'MEDIA_START',
      format: 'ulaw',
      optimalFrameSize: 160,
      connectionId: 'abc',
      channel: 'WebSocket/x-1',
    });
    assert.deepEqual(readAsteriskNotification('DTMF_END digit:5 channel_id:1.2'), { event: 'DTMF_END', digit: '5' });
    assert.deepEqual(readAsteriskNotification('{"event":"DTMF_END","channel_id":"1.2","digit":"#"}'), { event: 'DTMF_END', digit: '#' });
    assert.deepEqual(readAsteriskNotification('MEDIA_XOFF'), { event: 'MEDIA_XOFF' });
    assert.match((readAsteriskNotification('MEDIA_START format:ulaw') as { problem: string }).problem, /optimal_frame_size/);
  });
  void it('maps codecs onto session formats', () => {
    assert.deepEqual(asteriskFormat('ulaw'), { encoding: 'mulaw', sampleRateHz: 8000, silenceByte: 0xff });
    assert.deepEqual(asteriskFormat('slin16'), { encoding: 'pcm16', sampleRateHz: 16000, silenceByte: 0 });
    assert.equal(asteriskFormat('slin192'), null);
    assert.equal(asteriskFormat('opus'), null);
  });
});

void describe('AudioSocket framing', () => {
  void it('cuts a byte stream into messages, across any chunking', () => {
    const stream = Buffer.concat([encodeMessage(0x01, Buffer.alloc(16, 7)), encodeMessage(0x10, Buffer.alloc(320, 1)), encodeMessage(0x00)]);
    for (const size of [1, 2, 3, 100, stream.length]) {
      const reader = new MessageReader();
      const messages = [];
      for (let at = 0; at < stream.length; at += size) messages.push(...reader.push(stream.subarray(at, at + size)));
      assert.deepEqual(messages.map((m) => [m.kind, m.payload.length]), [[1, 16], [0x10, 320], [0, 0]], `chunks of ${size}`);
    }
  });
});
