/**
 * The Realtime dialect's pause-then-decide, this gateway's extension: a session that sets
 * `turn_detection.interruption_mode: "pause"` gets `response.paused` when the user talks over a
 * reply, and the reply is cancelled once the words come (the scripted recognizer hears words in
 * every utterance); a session that does not ask keeps OpenAI's barge-in (no response.paused).
 * A real gateway process over TLS, the RealtimeTestClient on its WebSocket.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- wire events are read as untyped JSON; the assertions are the type checks */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GatewayProcess } from '../support/gateway-process.js';
import { RealtimeTestClient } from '../support/realtime-client.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import type { ScriptedServer } from '../support/scripted-openai-server.js';
import type { TestCa } from '../support/test-ca.js';
import { startTlsGateway } from '../support/tls-gateway.js';

const RATE_HZ = 24000;
const LONG_REPLY = 'Here is a long answer about the weather. It will be sunny in the morning. Clouds will come in the afternoon. Rain is likely by the evening. Take an umbrella with you.';

let ca: TestCa;
let llm: ScriptedServer;
let gateway: GatewayProcess;
let stop: () => Promise<void>;
const connect = () => RealtimeTestClient.connect({ port: gateway.httpPort, ca: ca.read('ca').toString() });

before(async () => {
  ({ ca, llm, gateway, stop } = await startTlsGateway({ reply: LONG_REPLY, tokenDelayMs: 5 }));
});
after(() => stop());

function session(turnDetection: Record<string, unknown>) {
  return {
    type: 'session.update',
    session: {
      type: 'realtime',
      audio: {
        input: { format: { type: 'audio/pcm', rate: RATE_HZ }, turn_detection: { type: 'server_vad', silence_duration_ms: 500, ...turnDetection } },
        output: { format: { type: 'audio/pcm', rate: RATE_HZ } },
      },
    },
  };
}

async function talkOver(rt: RealtimeTestClient): Promise<{ responseId: string; mark: number }> {
  rt.appendPcm(concat(silence(200, RATE_HZ), tone(800, RATE_HZ), silence(1000, RATE_HZ)));
  const first = await rt.next('response.output_audio.delta');
  const mark = rt.events.length;
  rt.appendPcm(concat(tone(1200, RATE_HZ), silence(1500, RATE_HZ)));
  return { responseId: first.response_id as string, mark };
}

void describe('Realtime: interruption_mode pause (gateway extension)', () => {
  void it('asked for: the reply is paused on speech, shown back in turn_detection, then cancelled by the words', async () => {
    llm.setReply((request) => (request.messages.some((m) => m.role === 'assistant') ? 'Okay.' : LONG_REPLY));
    const rt = await connect();
    await rt.next('session.created');
    rt.send(session({ interruption_mode: 'pause', false_interruption_timeout_ms: 800 }));
    const updated = await rt.next('session.updated');
    assert.equal(updated.session.audio.input.turn_detection.interruption_mode, 'pause');
    assert.equal(updated.session.audio.input.turn_detection.false_interruption_timeout_ms, 800);
    const { responseId, mark } = await talkOver(rt);
    const paused = await rt.next('response.paused', () => true, 20_000, mark);
    assert.equal(paused.response_id, responseId);
    const done = await rt.next('response.done', (e) => e.response.id === responseId, 20_000);
    assert.equal(done.response.status, 'cancelled', rt.summary());
    await rt.close();
  });

  void it('not asked for: OpenAI barge-in, no response.paused', async () => {
    llm.setReply((request) => (request.messages.some((m) => m.role === 'assistant') ? 'Okay.' : LONG_REPLY));
    const rt = await connect();
    await rt.next('session.created');
    rt.send(session({}));
    const updated = await rt.next('session.updated');
    assert.equal(updated.session.audio.input.turn_detection.interruption_mode, undefined);
    const { responseId } = await talkOver(rt);
    const done = await rt.next('response.done', (e) => e.response.id === responseId, 20_000);
    assert.equal(done.response.status, 'cancelled');
    assert.equal(rt.all('response.paused').length, 0);
    await rt.close();
  });
});
