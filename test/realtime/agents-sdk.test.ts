/**
 * `@openai/agents-realtime` (RealtimeSession over its WebSocket transport) as a second Realtime
 * client: it sends its own session.update (semantic VAD, transcription, tracing), retrieves items
 * after transcription, and must complete a spoken turn against the gateway over TLS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAIRealtimeWebSocket, RealtimeAgent, RealtimeSession, type RealtimeItem } from '@openai/agents-realtime';
import { WebSocket } from 'ws';
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import type { ScriptedServer } from '../support/scripted-openai-server.js';
import type { TestCa } from '../support/test-ca.js';
import { startTlsGateway } from '../support/tls-gateway.js';

const RATE_HZ = 24000;
const REPLY = 'It is sunny and warm today.';

let ca: TestCa;
let llm: ScriptedServer;
let gateway: GatewayProcess;
let stop: () => Promise<void>;

before(async () => {
  ({ ca, llm, gateway, stop } = await startTlsGateway({ reply: REPLY, tokenDelayMs: 5 }));
});

after(() => stop());

void describe('@openai/agents-realtime', () => {
  void it('completes a spoken turn: transcript in its history, the reply as audio and text', async () => {
    const transport = new OpenAIRealtimeWebSocket({
      url: `wss://127.0.0.1:${gateway.httpPort}/v1/realtime?model=cascade`,
      // Its own sockets are `ws` ones too; this one trusts the test CA.
      createWebSocket: ({ url, apiKey }) => Promise.resolve(new WebSocket(url, { headers: { Authorization: `Bearer ${apiKey}` }, ca: ca.read('ca').toString() })),
    });
    const session = new RealtimeSession(new RealtimeAgent({ name: 'Assistant', instructions: 'Be brief.' }), { transport, model: 'cascade' });
    const errors: unknown[] = [];
    session.on('error', (e) => errors.push(e.error));
    let audioBytes = 0;
    session.on('audio', (e) => (audioBytes += e.data.byteLength));
    const replied = new Promise<string>((resolve) => session.on('agent_end', (_context, _agent, text) => resolve(text)));
    const heard = new Promise<RealtimeItem[]>((resolve) =>
      session.on('history_updated', (history) => {
        if (history.some((item) => item.type === 'message' && item.role === 'user' && item.content.some((c) => c.type === 'input_audio' && c.transcript))) resolve(history);
      }),
    );

    await session.connect({ apiKey: 'test-key' });
    const pcm = concat(silence(300, RATE_HZ), tone(800, RATE_HZ), silence(2000, RATE_HZ));
    const step = (RATE_HZ * 40) / 1000;
    for (let at = 0; at < pcm.length; at += step) {
      const chunk = bytesFromPcm16(pcm.subarray(at, at + step));
      session.sendAudio(chunk.buffer as ArrayBuffer);
    }

    assert.equal(await replied, REPLY);
    const history = await heard;
    const user = history.find((item) => item.type === 'message' && item.role === 'user');
    assert.ok(
      user?.type === 'message' && user.content.some((c) => c.type === 'input_audio' && c.transcript === 'utterance of 800 ms'),
      `the user's words in the history: ${JSON.stringify(user)}`,
    );
    assert.ok(audioBytes / 2 / RATE_HZ > 1, `${audioBytes / 2 / RATE_HZ} s of reply audio`);
    assert.deepEqual(errors, [], 'the gateway accepted everything the SDK sent');
    assert.equal(llm.requests.at(-1)?.messages.at(-1)?.content, 'utterance of 800 ms');
    assert.equal(llm.requests.at(-1)?.messages[0]?.content, 'Be brief.');
    session.close();
  });
});
