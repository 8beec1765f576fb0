/**
 * The official `openai` SDK (OpenAIRealtimeWS, GA dialect) as a Realtime client of a real gateway
 * process over TLS (a CA made for the test), with scripted VAD, ASR and TTS and a scripted
 * OpenAI-compatible LLM server behind it: a voice turn, a text turn, push-to-talk, and barge-in
 * with truncation seen in the next LLM request.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- wire events are read as untyped JSON; the assertions are the type checks */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pcm16FromBytes } from '../../src/audio/pcm.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { RealtimeTestClient } from '../support/realtime-client.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import type { ScriptedServer } from '../support/scripted-openai-server.js';
import type { TestCa } from '../support/test-ca.js';
import { startTlsGateway } from '../support/tls-gateway.js';

const RATE_HZ = 24000;
const REPLY = 'It is sunny and warm today.';
const LONG_REPLY = 'Here is a long answer about the weather. It will be sunny in the morning. Clouds will come in the afternoon. Rain is likely by the evening. Take an umbrella with you.';

let ca: TestCa;
let llm: ScriptedServer;
let gateway: GatewayProcess;
let stop: () => Promise<void>;
const connect = () => RealtimeTestClient.connect({ port: gateway.httpPort, ca: ca.read('ca').toString() });

before(async () => {
  ({ ca, llm, gateway, stop } = await startTlsGateway({ reply: REPLY, tokenDelayMs: 5 }));
});

after(() => stop());

/** Ms of reply audio received so far (24 kHz PCM16). */
function audioMs(rt: RealtimeTestClient): number {
  const bytes = rt.all('response.output_audio.delta').reduce((n, e) => n + Buffer.from(e.delta as string, 'base64').length, 0);
  return (bytes / 2 / RATE_HZ) * 1000;
}

/** A session.update with transcription on and server VAD. */
function voiceSession(extra: Record<string, unknown> = {}) {
  return {
    type: 'session.update',
    event_id: 'evt_setup',
    session: {
      type: 'realtime',
      instructions: 'Be brief.',
      audio: {
        input: { format: { type: 'audio/pcm', rate: RATE_HZ }, transcription: { model: 'any' }, turn_detection: { type: 'server_vad', silence_duration_ms: 500 } },
        output: { format: { type: 'audio/pcm', rate: RATE_HZ }, voice: 'alloy' },
      },
      ...extra,
    },
  };
}

void describe('the openai SDK over TLS', () => {
  void it('a full voice turn: every event in the documented order, with ids, audio and transcripts', async () => {
    llm.setReply(REPLY);
    const rt = await connect();
    const created = await rt.next('session.created');
    assert.equal(created.session.type, 'realtime');
    assert.deepEqual(created.session.audio.input.format, { type: 'audio/pcm', rate: 24000 });
    assert.equal(created.session.audio.input.turn_detection.type, 'server_vad');
    rt.send(voiceSession());
    const updated = await rt.next('session.updated');
    assert.deepEqual(updated.session.audio.input.transcription, { model: 'any' });
    assert.equal(updated.session.audio.output.voice, 'alloy');
    assert.equal(updated.session.instructions, 'Be brief.');

    rt.appendPcm(concat(silence(300, RATE_HZ), tone(800, RATE_HZ), silence(1500, RATE_HZ)));
    const done = await rt.next('response.done');
    assert.equal(done.response.status, 'completed', rt.summary());

    assert.deepEqual(rt.types(2), [
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      'conversation.item.added',
      'conversation.item.input_audio_transcription.delta',
      'conversation.item.input_audio_transcription.completed',
      'conversation.item.done',
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      ...rt.types(2).slice(11, -6), // transcript and audio deltas, interleaved
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    const deltaTypes = new Set(rt.types(2).slice(11, -6));
    assert.deepEqual([...deltaTypes].sort(), ['response.output_audio.delta', 'response.output_audio_transcript.delta']);

    const userItem = (await rt.next('input_audio_buffer.committed')).item_id as string;
    assert.equal((await rt.next('input_audio_buffer.speech_started')).item_id, userItem, 'speech names the item it becomes');
    assert.equal((await rt.next('input_audio_buffer.speech_stopped')).item_id, userItem);
    assert.ok((await rt.next('input_audio_buffer.speech_started')).audio_start_ms >= 0);
    const completed = await rt.next('conversation.item.input_audio_transcription.completed');
    assert.deepEqual([completed.item_id, completed.content_index, completed.transcript], [userItem, 0, 'utterance of 800 ms']);

    const responseId = done.response.id as string;
    const assistantItem = (await rt.next('response.output_item.added')).item.id as string;
    assert.equal((await rt.next('conversation.item.added', (e) => e.item.role === 'assistant')).previous_item_id, userItem);
    for (const e of rt.events.filter((e) => e.type.startsWith('response.') && e.type !== 'response.created' && e.type !== 'response.done')) {
      assert.equal(e.response_id, responseId, `${e.type} names the response`);
      assert.equal(e.output_index, 0, `${e.type} has output_index`);
      if (e.type !== 'response.output_item.added' && e.type !== 'response.output_item.done') {
        assert.equal(e.item_id, assistantItem, `${e.type} names the item`);
        assert.equal(e.content_index, 0, `${e.type} has content_index`);
      }
    }
    const eventIds = rt.events.map((e) => e.event_id);
    assert.ok(eventIds.every((id) => typeof id === 'string' && id.startsWith('event_')), 'every event has an event_id');
    assert.equal(new Set(eventIds).size, eventIds.length, 'event ids are unique');

    const pcm = pcm16FromBytes(Buffer.concat(rt.all('response.output_audio.delta').map((e) => Buffer.from(e.delta as string, 'base64'))));
    assert.ok(pcm.length / RATE_HZ > 1, `${pcm.length / RATE_HZ} s of reply audio at 24 kHz`);
    assert.ok(pcm.some((s) => Math.abs(s) > 1000), 'the reply audio is not silence');
    assert.equal(rt.all('response.output_audio_transcript.delta').map((e) => e.delta as string).join(''), REPLY);
    assert.equal((await rt.next('response.output_audio_transcript.done')).transcript, REPLY);
    assert.deepEqual(done.response.output[0].content, [{ type: 'output_audio', transcript: REPLY }]);
    assert.equal(done.response.output[0].status, 'completed');
    assert.deepEqual(llm.requests.at(-1)?.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'utterance of 800 ms' },
    ]);
    await rt.close();
  });

  void it('a text turn: conversation.item.create then response.create', async () => {
    llm.setReply('Hello to you too.');
    const rt = await connect();
    await rt.next('session.created');
    rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello gateway' }] } });
    const added = await rt.next('conversation.item.added');
    assert.equal(added.item.role, 'user');
    assert.deepEqual(added.item.content, [{ type: 'input_text', text: 'hello gateway' }]);
    assert.equal((await rt.next('conversation.item.done')).item.id, added.item.id);
    rt.send({ type: 'response.create' });
    const done = await rt.next('response.done');
    assert.equal(done.response.status, 'completed');
    assert.equal((await rt.next('response.output_audio_transcript.done')).transcript, 'Hello to you too.');
    assert.equal(llm.requests.at(-1)?.messages.at(-1)?.content, 'hello gateway');
    await rt.close();
  });

  void it('push-to-talk: turn_detection null, commit, then response.create', async () => {
    llm.setReply(REPLY);
    const rt = await connect();
    await rt.next('session.created');
    rt.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null, transcription: { model: 'any' } } } } });
    assert.equal((await rt.next('session.updated')).session.audio.input.turn_detection, null);
    const requestsBefore = llm.requests.length;
    rt.appendPcm(concat(tone(600, RATE_HZ), silence(1500, RATE_HZ)));
    rt.send({ type: 'input_audio_buffer.commit' });
    const committed = await rt.next('input_audio_buffer.committed');
    assert.equal((await rt.next('conversation.item.input_audio_transcription.completed')).transcript, 'utterance of 600 ms');
    assert.equal(rt.all('input_audio_buffer.speech_started').length, 0, 'no speech events without turn detection');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(llm.requests.length, requestsBefore, 'no reply until response.create');
    rt.send({ type: 'response.create' });
    const assistant = await rt.next('conversation.item.added', (e) => e.item.role === 'assistant');
    assert.equal(assistant.previous_item_id, committed.item_id);
    assert.equal((await rt.next('response.done')).response.status, 'completed');
    await rt.close();
  });

  void it('barge-in: the reply is cancelled, and truncate cuts what the next LLM request holds', async () => {
    llm.setReply((request) => (request.messages.some((m) => m.role === 'assistant') ? 'Okay.' : LONG_REPLY));
    const rt = await connect();
    await rt.next('session.created');
    rt.send(voiceSession());
    await rt.next('session.updated');
    rt.appendPcm(concat(silence(200, RATE_HZ), tone(800, RATE_HZ), silence(1000, RATE_HZ)));
    const firstAudio = await rt.next('response.output_audio.delta');
    const itemId = firstAudio.item_id as string;
    // Audio goes out faster than real time: wait until 3 s of it came, so 1 s played is inside it.
    await rt.next('response.output_audio.delta', () => audioMs(rt) >= 3000);
    const requestsBefore = llm.requests.length;

    // The user talks over the reply; like the SDKs, the client stops playback at speech_started
    // and says how much it played: 1 s.
    const mark = rt.events.length;
    rt.appendPcm(tone(1200, RATE_HZ));
    await rt.next('input_audio_buffer.speech_started', () => true, 20_000, mark);
    rt.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 1000 });
    const truncated = await rt.next('conversation.item.truncated');
    assert.deepEqual([truncated.item_id, truncated.content_index, truncated.audio_end_ms], [itemId, 0, 1000]);
    rt.appendPcm(silence(1500, RATE_HZ));

    const cancelled = await rt.next('response.done', (e) => e.response.status !== 'completed');
    assert.equal(cancelled.response.status, 'cancelled');
    assert.ok(['turn_detected', 'client_cancelled'].includes(cancelled.response.status_details.reason as string));
    assert.equal(cancelled.response.output[0].status, 'incomplete');
    await rt.next('response.done', (e) => e.response.id !== cancelled.response.id);

    const next = llm.requests[requestsBefore]!;
    assert.equal(next.messages.at(-1)?.content, 'utterance of 1200 ms');
    const assistant = next.messages.find((m) => m.role === 'assistant');
    assert.ok(assistant, `an assistant message in ${JSON.stringify(next.messages)}`);
    // 1 s of audio at the scripted TTS's 50 ms per character is about 20 characters.
    assert.ok(assistant.content.length > 0 && assistant.content.length < 40, `cut to what was played: "${assistant.content}"`);
    assert.ok(LONG_REPLY.startsWith(assistant.content), `a prefix of the reply: "${assistant.content}"`);
    await rt.close();
  });
});
