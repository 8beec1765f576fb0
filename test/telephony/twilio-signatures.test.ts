/**
 * Carrier signatures on the Twilio endpoint: X-Twilio-Signature made by Twilio's own helper
 * library (the `twilio` package) for the stream upgrade and the TwiML webhook, and Fonoster's
 * HMAC-SHA256 headers. A wrong signature is refused before any audio; a right one admits the call
 * though the gateway requires an API key.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import twilio from 'twilio';
import { WebSocket } from 'ws';
import { newApiKey } from '../../src/auth/api-keys.js';
import { eventually, startTelephonyGateway, type TelephonyGateway } from '../support/telephony-gateway.js';
import { TwilioPeer } from '../support/twilio-peer.js';

const AUTH_TOKEN = 'test-twilio-auth-token-0123456789';
const FONOSTER_SECRET = 'fonoster-signing-secret';
const PUBLIC = 'voice.example.com'; // the gateway sits behind a TLS proxy with this name
const gatewayKey = newApiKey('operator');

let phone: TelephonyGateway;
before(async () => {
  phone = await startTelephonyGateway({
    reply: () => ['Fine.'],
    env: {
      AUTH_MODE: 'api_key',
      API_KEYS: gatewayKey.line,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      FONOSTER_SIGNING_SECRET: FONOSTER_SECRET,
      TELEPHONY_PUBLIC_URL: `https://${PUBLIC}`,
      TELEPHONY_GREETING: 'Welcome to the signed line.',
    },
  });
});
after(() => phone.close());

const streamUrl = () => `${phone.wsBase}/v1/telephony/twilio`;

/** Resolves with the HTTP status of a refused upgrade, or 101 when the socket opened. */
function upgradeStatus(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(streamUrl(), { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.once('error', () => undefined);
  });
}

void describe('X-Twilio-Signature', () => {
  void it('a stream signed by Twilio for the public URL is admitted without a gateway key', async () => {
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `wss://${PUBLIC}/v1/telephony/twilio`, {});
    const peer = await TwilioPeer.connect(streamUrl(), { headers: { 'x-twilio-signature': signature } });
    await eventually(() => peer.heardMs > 500, 'the greeting playing');
    peer.hangUp();
    await peer.closed;
  });

  void it('a wrong signature is refused with 403 before the handshake, so no audio is read', async () => {
    const sessionsBefore = phone.logs.filter((l) => l.msg === 'session opened').length;
    const wrong = twilio.getExpectedTwilioSignature('another-token', `wss://${PUBLIC}/v1/telephony/twilio`, {});
    const refused = await upgradeStatus({ 'x-twilio-signature': wrong });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /X-Twilio-Signature does not match/);
    const otherUrl = twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'wss://attacker.example/v1/telephony/twilio', {});
    assert.equal((await upgradeStatus({ 'x-twilio-signature': otherUrl })).status, 403, 'a signature for another URL does not pass');
    assert.equal(phone.logs.filter((l) => l.msg === 'session opened').length, sessionsBefore, 'no session was opened');
  });

  void it('an unsigned stream needs a gateway key (here as a stream parameter, since Twilio drops query strings)', async () => {
    const noKey = await TwilioPeer.connect(streamUrl());
    const refused = await noKey.closed;
    assert.equal(refused.code, 1008);
    assert.match(refused.reason, /API key/);
    const keyed = await TwilioPeer.connect(streamUrl(), { customParameters: { key: gatewayKey.key } });
    await eventually(() => keyed.heardMs > 500, 'the greeting playing');
    keyed.hangUp();
    await keyed.closed;
    // Telnyx sends its stream_auth_token in this header: a gateway key there admits the stream.
    const telnyx = await TwilioPeer.connect(streamUrl(), { headers: { 'x-telnyx-streaming-auth-token': gatewayKey.key } });
    await eventually(() => telnyx.heardMs > 500, 'the greeting playing (Telnyx header)');
    telnyx.hangUp();
    await telnyx.closed;
  });

  void it('the TwiML webhook checks the signature over URL and form and connects the call to the stream with its parameters', async () => {
    const url = `https://${PUBLIC}/v1/telephony/twilio/twiml?greeting=${encodeURIComponent('Hi & welcome')}&language=en-US&caller=x`;
    const form = { CallSid: 'CA123', From: '+15550100', To: '+15550199', AccountSid: 'AC123' };
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, form);
    const post = (sig: string) =>
      fetch(`${phone.httpBase}/v1/telephony/twilio/twiml?greeting=${encodeURIComponent('Hi & welcome')}&language=en-US&caller=x`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig },
        body: new URLSearchParams(form).toString(),
      });
    const ok = await post(signature);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /text\/xml/);
    const twiml = await ok.text();
    assert.match(twiml, /<Response><Connect><Stream url="wss:\/\/voice\.example\.com\/v1\/telephony\/twilio">/);
    assert.match(twiml, /<Parameter name="greeting" value="Hi &amp; welcome"\/>/);
    assert.match(twiml, /<Parameter name="language" value="en-US"\/>/);
    assert.doesNotMatch(twiml, /caller/, 'only allow-listed parameters travel on');
    const tampered = await post(twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, { ...form, From: '+15550666' }));
    assert.equal(tampered.status, 403, 'a signature over other form values is refused');
  });
});

void describe('Fonoster signatures (HMAC-SHA256)', () => {
  const sign = (timestamp: number, url: string, secret = FONOSTER_SECRET) => {
    const appRef = 'app-1';
    const workspaceRef = 'WO123';
    const hmac = (data: string) => createHmac('sha256', secret).update(data).digest('hex');
    return {
      'x-fonoster-timestamp': String(timestamp),
      'x-fonoster-signature': hmac(`${timestamp}.${url}`),
      'x-fonoster-app-ref': appRef,
      'x-fonoster-workspace-ref': workspaceRef,
      'x-fonoster-app-signature': hmac(`${timestamp}\n${url}\n${appRef}\n${workspaceRef}`),
    };
  };
  const now = () => Math.floor(Date.now() / 1000);

  void it('a signed Fonoster stream is admitted; a wrong secret, a stale timestamp or another URL are refused', async () => {
    const url = `wss://${PUBLIC}/v1/telephony/twilio`;
    const peer = await TwilioPeer.connect(streamUrl(), { headers: sign(now(), url) });
    await eventually(() => peer.heardMs > 500, 'the greeting playing');
    peer.hangUp();
    await peer.closed;
    assert.equal((await upgradeStatus(sign(now(), url, 'wrong-secret'))).status, 403);
    const stale = await upgradeStatus(sign(now() - 3600, url));
    assert.equal(stale.status, 403);
    assert.match(stale.body, /timestamp/);
    assert.equal((await upgradeStatus(sign(now(), 'wss://elsewhere.example/v1/telephony/twilio'))).status, 403);
  });
});
