/**
 * What a Realtime client can get wrong, against a gateway process that checks API keys: a bad key
 * is refused on the upgrade (401); a key in the subprotocol works. Every bad event (not JSON, an
 * unknown type, base64 that is not audio, a frame too large, events out of order) gets an `error`
 * event naming the client's event_id, the socket stays open, and other sessions go on. Only a
 * frame past the hard frame limit closes its socket.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- wire events are read as untyped JSON; the assertions are the type checks */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { hashApiKey } from '../../src/auth/api-keys.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { RealtimeTestClient } from '../support/realtime-client.js';
import type { TestCa } from '../support/test-ca.js';
import { startTlsGateway } from '../support/tls-gateway.js';

const KEY = 'vgk_test_key_for_realtime';
const MAX_MESSAGE_BYTES = 256 * 1024;
const MAX_FRAME_BYTES = 1024 * 1024;

let ca: TestCa;
let gateway: GatewayProcess;
let stop: () => Promise<void>;
const connect = () => RealtimeTestClient.connect({ port: gateway.httpPort, ca: ca.read('ca').toString(), apiKey: KEY });
const url = () => `wss://127.0.0.1:${gateway.httpPort}/v1/realtime?model=cascade`;

before(async () => {
  ({ ca, gateway, stop } = await startTlsGateway({ reply: 'Fine.', tokenDelayMs: 2 }, {
    AUTH_MODE: 'api_key',
    API_KEYS: `tests:${hashApiKey(KEY)}`,
    MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    REALTIME_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
  }));
});

after(() => stop());

/** A text turn: the session still talks. */
async function textTurn(rt: RealtimeTestClient, text: string): Promise<void> {
  const from = rt.events.length;
  rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  rt.send({ type: 'response.create' });
  const done = await rt.next('response.done', () => true, 20_000, from);
  assert.equal(done.response.status, 'completed', rt.summary());
}

void describe('the Realtime handshake', () => {
  void it('a wrong key is refused on the upgrade with 401 and a reason', async () => {
    const ws = new WebSocket(url(), { ca: ca.read('ca').toString(), headers: { Authorization: 'Bearer not-the-key' } });
    const [status, body] = await new Promise<[number, string]>((resolve, reject) => {
      ws.on('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve([response.statusCode ?? 0, text]));
      });
      ws.on('open', () => reject(new Error('the socket opened with a wrong key')));
    });
    assert.equal(status, 401);
    const error = (JSON.parse(body) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'invalid_api_key');
    assert.match(error.message, /not valid/);
  });

  void it('browsers put the key in a subprotocol; the gateway answers with "realtime"', async () => {
    const ws = new WebSocket(url(), ['realtime', `openai-insecure-api-key.${KEY}`], { ca: ca.read('ca').toString() });
    const first = await new Promise<{ type: string }>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as { type: string }));
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'realtime');
    assert.equal(first.type, 'session.created');
    ws.close();
  });

  void it('a transcription-only connection is refused with 400', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${gateway.httpPort}/v1/realtime?intent=transcription`, { ca: ca.read('ca').toString(), headers: { Authorization: `Bearer ${KEY}` } });
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)));
    assert.equal(status, 400);
  });
});

void describe('bad input', () => {
  void it('each bad event gets an error event with its event_id; the session and others go on', async () => {
    const other = await connect();
    const rt = await connect();
    await rt.next('session.created');
    const errorFor = async (eventId: string) => (await rt.next('error', (e) => e.error.event_id === eventId)).error as Record<string, unknown>;
    const nextError = async () => {
      const from = rt.events.length;
      return (await rt.next('error', () => true, 20_000, from)).error as Record<string, unknown>;
    };

    rt.rt.socket.send('{"type": "session.update", ');
    assert.equal((await nextError()).code, 'invalid_json');

    rt.send({ type: 'response.make_it_so', event_id: 'e1' });
    const unknown = await errorFor('e1');
    assert.deepEqual([unknown.type, unknown.code, unknown.param], ['invalid_request_error', 'invalid_value', 'type']);
    assert.match(unknown.message as string, /unsupported event type "response.make_it_so"/);

    rt.send({ type: 'input_audio_buffer.append', audio: 'this is not base64!', event_id: 'e2' });
    assert.deepEqual([(await errorFor('e2')).param, (await errorFor('e2')).code], ['audio', 'invalid_value']);

    rt.send({ type: 'input_audio_buffer.append', audio: Buffer.from([1, 2, 3]).toString('base64'), event_id: 'e3' });
    const odd = await errorFor('e3');
    assert.match(odd.message as string, /whole 2-byte samples; got 3 bytes/);
    assert.equal(odd.param, 'audio');

    rt.rt.socket.send(Buffer.from([0x08, 0x01]), { binary: true });
    assert.match((await nextError()).message as string, /binary frame/);

    rt.send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(MAX_MESSAGE_BYTES).toString('base64'), event_id: 'big' });
    const big = await nextError();
    assert.equal(big.code, 'message_too_large');
    assert.match(big.message as string, /at most 262144/);

    rt.send({ type: 'input_audio_buffer.commit', event_id: 'e4' });
    assert.equal((await errorFor('e4')).code, 'input_audio_buffer_commit_empty');

    rt.send({ type: 'response.cancel', event_id: 'e5' });
    assert.equal((await errorFor('e5')).code, 'response_cancel_not_active');

    rt.send({ type: 'conversation.item.truncate', item_id: 'item_nope', content_index: 0, audio_end_ms: 10, event_id: 'e6' });
    assert.equal((await errorFor('e6')).code, 'item_not_found');

    rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_audio', audio: 'AAAA' }] }, event_id: 'e7' });
    assert.equal((await errorFor('e7')).param, 'item.content.0.type');

    rt.send({ type: 'conversation.item.create', previous_item_id: 'item_nope', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] }, event_id: 'e8' });
    assert.equal((await errorFor('e8')).code, 'item_not_found');

    rt.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/opus' } } } }, event_id: 'e9' });
    assert.equal((await errorFor('e9')).param, 'session.audio.input.format.type');

    rt.send({ type: 'session.update', session: { type: 'realtime', tools: [{ type: 'mcp', server_label: 'x', server_url: 'https://x' }] }, event_id: 'e10' });
    assert.match((await errorFor('e10')).message as string, /only "function" tools can be declared by a client: MCP servers are configured on the gateway/);

    rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
    rt.send({ type: 'response.create' });
    rt.send({ type: 'response.create', event_id: 'e11' });
    assert.equal((await errorFor('e11')).code, 'conversation_already_has_active_response');
    await rt.next('response.done');

    assert.equal(rt.closed, null, 'the socket is still open');
    await textTurn(rt, 'still there?');
    await textTurn(other, 'and you?');
    await rt.close();
    await other.close();
  });

  void it('a frame past REALTIME_MAX_FRAME_BYTES closes only its own socket (1009)', async () => {
    const other = await connect();
    const rt = await connect();
    await rt.next('session.created');
    rt.send({ type: 'input_audio_buffer.append', audio: Buffer.alloc(MAX_FRAME_BYTES).toString('base64') });
    const closed = await new Promise<[number, string]>((resolve) => rt.rt.socket.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    assert.equal(closed[0], 1009);
    assert.match(closed[1], /REALTIME_MAX_FRAME_BYTES/);
    await textTurn(other, 'are you fine?');
    await other.close();
  });
});
