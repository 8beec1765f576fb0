/**
 * The beta dialect, chosen by the `OpenAI-Beta: realtime=v1` header that the `openai` SDK's beta
 * classes send: flat session fields, beta event names (conversation.item.created,
 * response.audio.*, response.audio_transcript.*), and G.711 mu-law at 8 kHz both ways.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- wire events are read as untyped JSON; the assertions are the type checks */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeAudio, encodeAudio } from '../../src/audio/codec.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { RealtimeTestClient } from '../support/realtime-client.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import type { TestCa } from '../support/test-ca.js';
import { startTlsGateway } from '../support/tls-gateway.js';

const REPLY = 'It is sunny and warm today.';
const RATE_HZ = 8000;

let ca: TestCa;
let gateway: GatewayProcess;
let stop: () => Promise<void>;

before(async () => {
  ({ ca, gateway, stop } = await startTlsGateway({ reply: REPLY, tokenDelayMs: 5 }));
});

after(() => stop());

void describe('the beta dialect (OpenAI-Beta: realtime=v1)', () => {
  void it('a voice turn in G.711 mu-law with beta session fields and event names', async () => {
    const rt = await RealtimeTestClient.connect({ port: gateway.httpPort, ca: ca.read('ca').toString(), beta: true });
    const created = await rt.next('session.created');
    assert.equal(created.session.input_audio_format, 'pcm16');
    assert.equal(created.session.turn_detection.type, 'server_vad');
    assert.equal(created.session.type, undefined, 'no GA session.type');
    await rt.next('conversation.created');

    rt.send({
      type: 'session.update',
      session: {
        modalities: ['text', 'audio'],
        instructions: 'Be brief.',
        voice: 'verse',
        input_audio_format: 'g711_ulaw',
        output_audio_format: 'g711_ulaw',
        input_audio_transcription: { model: 'whisper-1' },
        turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 },
      },
    });
    const updated = await rt.next('session.updated');
    assert.deepEqual(
      [updated.session.input_audio_format, updated.session.output_audio_format, updated.session.voice, updated.session.turn_detection.silence_duration_ms],
      ['g711_ulaw', 'g711_ulaw', 'verse', 500],
    );

    const pcm = concat(silence(300, RATE_HZ), tone(800, RATE_HZ), silence(1500, RATE_HZ));
    for (let at = 0; at < pcm.length; at += 320) {
      rt.send({ type: 'input_audio_buffer.append', audio: Buffer.from(encodeAudio(pcm.subarray(at, at + 320), 'mulaw')).toString('base64') });
    }
    const done = await rt.next('response.done');
    assert.equal(done.response.status, 'completed', rt.summary());
    assert.deepEqual(done.response.output[0].content, [{ type: 'audio', transcript: REPLY }]);

    const types = new Set(rt.types());
    for (const name of ['conversation.item.created', 'response.audio.delta', 'response.audio.done', 'response.audio_transcript.delta', 'response.audio_transcript.done']) {
      assert.ok(types.has(name), `${name} sent`);
    }
    for (const name of ['conversation.item.added', 'conversation.item.done', 'response.output_audio.delta', 'response.output_audio_transcript.done']) {
      assert.ok(!types.has(name), `no GA ${name}`);
    }
    assert.equal((await rt.next('conversation.item.input_audio_transcription.completed')).transcript, 'utterance of 800 ms');
    assert.equal((await rt.next('response.audio_transcript.done')).transcript, REPLY);

    const mulaw = Buffer.concat(rt.all('response.audio.delta').map((e) => Buffer.from(e.delta as string, 'base64')));
    assert.ok(mulaw.length / RATE_HZ > 1, `${mulaw.length / RATE_HZ} s of mu-law at 8 kHz`);
    assert.ok(decodeAudio(mulaw, 'mulaw').some((s) => Math.abs(s) > 1000), 'the reply audio is not silence');
    await rt.close();
  });
});
