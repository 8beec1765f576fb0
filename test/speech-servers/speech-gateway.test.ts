/**
 * Spoken turns through the real `voice-gateway serve` (its own process, its own settings) on
 * neural speech servers: the scripted OpenAI-compatible speech server (as speaches or
 * Kokoro-FastAPI) and the scripted Wyoming server (as wyoming-faster-whisper and wyoming-piper),
 * with the scripted OpenAI-compatible LLM; voice.v1 over gRPC, all on loopback. VAD is the
 * simulated one (loudness), since the tests speak in tones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ask } from '../../src/client/ask-client.js';
import { loadConfig } from '../../src/config/load.js';
import { AudioEncoding } from '../../src/gen/voice/v1/voice_pb.js';
import { startGateway } from '../../src/server.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { listVoices, openConverse } from '../support/grpc-call.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { startScriptedSpeechServer, type ScriptedSpeechServer } from '../support/scripted-speech-server.js';
import { startScriptedWyoming, type ScriptedWyoming } from '../support/scripted-wyoming-server.js';

const REPLY = 'It is sunny and warm today.';
const LONG_REPLY = 'Here is a long answer about the weather. It will be sunny in the morning. Clouds will come in the afternoon. Rain is likely by the evening. Take an umbrella with you.';

let llm: ScriptedServer;
let speech: ScriptedSpeechServer;
let wyoming: ScriptedWyoming;
let openaiGateway: GatewayProcess;
let wyomingGateway: GatewayProcess;

// The end of turn waits for the transcript; on a loaded machine that may take seconds.
const common = { VAD_PROVIDER: 'simulated', LLM_PROVIDER: 'openai', WEB_CLIENT_ENABLED: 'false', LOG_LEVEL: 'warn', ASR_FINAL_WAIT_MS: '10000', RESUME_WINDOW_MS: '1000' };

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: (r) => (r.messages.some((m) => m.role === 'assistant') ? 'Okay.' : REPLY), tokenDelayMs: 5 });
  speech = await startScriptedSpeechServer({ chunkDelayMs: 10 });
  wyoming = await startScriptedWyoming({ chunkDelayMs: 10 });
  // One after the other: two compiling at once on a loaded machine can pass the start limit.
  openaiGateway = await startGatewayProcess(['test/support/serve-cli.ts'], {
    ...common,
    LLM_BASE_URL: llm.baseUrl,
    ASR_PROVIDER: 'openai',
    ASR_BASE_URL: speech.baseUrl,
    ASR_MODEL: 'whisper-small',
    TTS_PROVIDER: 'openai',
    TTS_BASE_URL: speech.baseUrl,
    TTS_MODEL: 'kokoro',
    TTS_VOICE: 'af_bella',
  });
  wyomingGateway = await startGatewayProcess(['test/support/serve-cli.ts'], { ...common, LLM_BASE_URL: llm.baseUrl, ASR_PROVIDER: 'wyoming', WYOMING_ASR_URI: wyoming.uri, TTS_PROVIDER: 'wyoming', WYOMING_TTS_URI: wyoming.uri, TTS_VOICE: 'en_US-lessac-medium' });
});
after(async () => {
  await Promise.all([openaiGateway?.stop(), wyomingGateway?.stop()]);
  await Promise.all([llm.close(), speech.close(), wyoming.close()]);
});

const question = () => concat(silence(300), tone(800), silence(300));
const speak = (gateway: GatewayProcess, pcm: Int16Array, extra: Partial<Parameters<typeof ask>[0]> = {}) =>
  // The client ends after this long with no event: a transcript comes only after the speech, so give it time.
  ask({ server: gateway.grpcAddress, pcm, sampleRateHz: 16000, settleMs: 3000, timeoutMs: 60_000, ...extra });

/** Speaks, and hangs up once the transcription server has the utterance. */
/**
 * A caller who goes away while its words are being transcribed: `ends` half-closes the call (the
 * session ends for good), `drops` cancels it (a dropped connection: the session waits for a resume
 * for RESUME_WINDOW_MS, its work in flight goes on, and ends with it).
 */
async function hangUpWhileTranscribing(gateway: GatewayProcess, received: Promise<unknown>, how: 'ends' | 'drops'): Promise<void> {
  const call = openConverse(gateway.grpcAddress);
  call.send({ case: 'start', value: { settings: { inputFormat: { encoding: AudioEncoding.PCM16, sampleRateHz: 16000 } } } });
  const pcm = concat(question(), silence(600));
  for (let at = 0; at < pcm.length; at += 1600) call.send({ case: 'audio', value: { data: new Uint8Array(pcm.buffer, pcm.byteOffset + at * 2, Math.min(3200, (pcm.length - at) * 2)) } });
  await received;
  if (how === 'ends') return call.close();
  call.call.cancel();
  call.client.close();
}

void describe('serve with ASR_PROVIDER=openai and TTS_PROVIDER=openai', () => {
  void it('a spoken question goes up as one WAV, the reply is synthesized as streamed PCM, and the turn completes', async () => {
    // The transcript comes 400 ms after speech ends, later than the end of turn: the turn waits for it.
    speech.configure({ firstByteDelayMs: 400 });
    const before = speech.requests.length;
    const result = await speak(openaiGateway, question());
    speech.configure({ firstByteDelayMs: 0 });
    assert.deepEqual(result.errors, []);
    const [turn] = result.turns;
    assert.equal(turn!.transcript, 'utterance of 800 ms');
    assert.equal(turn!.response_text, REPLY);
    assert.equal(turn!.response_status, 'completed');
    assert.ok(Math.abs(turn!.reply_audio_ms - REPLY.length * 40) < 50, `${turn!.reply_audio_ms} ms of reply for ${REPLY.length * 40} ms synthesized`);
    const requests = speech.requests.slice(before);
    assert.deepEqual(requests.map((r) => r.path), ['/v1/audio/transcriptions', '/v1/audio/speech']);
    assert.deepEqual([requests[0]!.fields.model, requests[0]!.fields.language], ['whisper-small', 'en']);
    assert.deepEqual([requests[1]!.fields.input, requests[1]!.fields.voice, requests[1]!.fields.response_format], [REPLY, 'af_bella', 'pcm']);
    assert.equal(llm.requests.at(-1)!.messages.at(-1)!.content, 'utterance of 800 ms');
  });

  void it('barge-in aborts the speech request: the server sees it, and the interruption is the next turn', async () => {
    llm.setReply((r) => (r.messages.some((m) => m.role === 'assistant') ? 'Okay.' : LONG_REPLY));
    // Synthesis at real time, and a first sentence (4.8 s) that the barge-in (about 1.5 s into the
    // reply) always lands in: at 40 ms a character it ended near the barge-in, and under load the
    // barge-in could fall between two sentences' requests, with none left to abort.
    speech.configure({ chunkDelayMs: 100, msPerChar: 120 });
    const aborted = speech.nextAbort('/v1/audio/speech');
    try {
      const result = await speak(openaiGateway, concat(silence(200), tone(800), silence(1800), tone(1000), silence(300)));
      const [first, second] = result.turns;
      assert.equal(first!.response_status, 'interrupted');
      assert.equal(second!.transcript, 'utterance of 1000 ms');
      const request = await aborted;
      assert.equal(request.finished, false);
    } finally {
      speech.configure({ chunkDelayMs: 10, msPerChar: 40 });
      llm.setReply(REPLY);
    }
  });

  const goneMidTranscription = {
    ends: 'a caller who ends the call mid-transcription: the transcription request is aborted, the server sees it',
    drops: 'a connection that drops mid-transcription: the session waits for a resume, and its request is aborted when RESUME_WINDOW_MS ends',
  } as const;
  for (const how of ['ends', 'drops'] as const) {
    void it(goneMidTranscription[how], async () => {
      speech.configure({ firstByteDelayMs: 5000 });
      const aborted = speech.nextAbort('/v1/audio/transcriptions');
      try {
        await hangUpWhileTranscribing(openaiGateway, speech.nextRequest('/v1/audio/transcriptions'), how);
        assert.equal((await aborted).finished, false);
      } finally {
        speech.configure({ firstByteDelayMs: 0 });
      }
    });
  }

  void it('a transcription server error fails that turn with asr_unavailable; the session goes on', async () => {
    speech.failNext('/v1/audio/transcriptions', { status: 500, body: '{"detail":"model crashed"}' });
    const result = await speak(openaiGateway, question(), { texts: ['are you there'] });
    assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
    assert.match(result.errors[0]!.message, /speech recognition failed: transcription server at .* answered HTTP 500 \(server error\): \{"detail":"model crashed"\}/);
    assert.deepEqual(result.turns.map((t) => [t.transcript, t.response_status]), [['are you there', 'completed']]);
  });

  void it('ListVoices answers with the server\'s voices', async () => {
    const response = await listVoices(openaiGateway.grpcAddress, 'en-GB');
    assert.deepEqual(response.voices.map((v) => v.name), ['bm_george']);
  });
});

void describe('words nobody waits for', () => {
  void it('a transcript later than ASR_FINAL_WAIT_MS: the turn goes on without it, and its request is aborted', async () => {
    const config = loadConfig({ ...common, HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', LLM_BASE_URL: llm.baseUrl, ASR_PROVIDER: 'openai', ASR_BASE_URL: speech.baseUrl, ASR_MODEL: 'whisper-small', ASR_FINAL_WAIT_MS: '300' });
    const gateway = await startGateway({ config });
    speech.configure({ firstByteDelayMs: 10_000 });
    const aborted = speech.nextAbort('/v1/audio/transcriptions');
    try {
      const result = await ask({ server: `127.0.0.1:${gateway.grpcPort}`, pcm: question(), sampleRateHz: 16000, settleMs: 1500, timeoutMs: 60_000 });
      assert.deepEqual(result.turns, [], 'no words: no turn');
      assert.equal((await aborted).finished, false);
    } finally {
      speech.configure({ firstByteDelayMs: 0 });
      await gateway.close();
    }
  });
});

void describe('serve with ASR_PROVIDER=wyoming and TTS_PROVIDER=wyoming', () => {
  void it('a spoken question streams to the Wyoming server as it is spoken; the reply comes from its 22.05 kHz voice', async () => {
    const before = wyoming.sessions.length;
    const result = await speak(wyomingGateway, question());
    assert.deepEqual(result.errors, []);
    const [turn] = result.turns;
    assert.equal(turn!.transcript, 'utterance of 800 ms');
    assert.equal(turn!.response_text, REPLY);
    assert.equal(turn!.response_status, 'completed');
    assert.ok(Math.abs(turn!.reply_audio_ms - REPLY.length * 40) < 50, `${turn!.reply_audio_ms} ms of reply`);
    const kinds = wyoming.sessions.slice(before).map((s) => s.received[0]!.type);
    assert.deepEqual(kinds, ['transcribe', 'synthesize']);
    assert.deepEqual(wyoming.sessions[before + 1]!.received[0]!.data, { text: REPLY, voice: { name: 'en_US-lessac-medium' } });
  });

  void it('barge-in closes the synthesis connection: the server sees the client leave', async () => {
    llm.setReply((r) => (r.messages.some((m) => m.role === 'assistant') ? 'Okay.' : LONG_REPLY));
    // 1024 samples at 22.05 kHz every 45 ms: real time; a first sentence (4.8 s) the barge-in always lands in (see above).
    wyoming.configure({ chunkDelayMs: 45, msPerChar: 120 });
    const aborted = wyoming.nextAbort();
    try {
      const result = await speak(wyomingGateway, concat(silence(200), tone(800), silence(1800), tone(1000), silence(300)));
      assert.equal(result.turns[0]!.response_status, 'interrupted');
      assert.equal(result.turns[1]!.transcript, 'utterance of 1000 ms');
      const session = await aborted;
      assert.equal(session.received[0]!.type, 'synthesize');
    } finally {
      wyoming.configure({ chunkDelayMs: 10, msPerChar: 40 });
      llm.setReply(REPLY);
    }
  });

  void it('a caller who ends the call mid-transcription: the connection is closed, the server sees it', async () => {
    wyoming.configure({ firstEventDelayMs: 5000 });
    const aborted = wyoming.nextAbort();
    try {
      await hangUpWhileTranscribing(wyomingGateway, wyoming.nextRequest(), 'ends');
      assert.equal((await aborted).received[0]!.type, 'transcribe');
    } finally {
      wyoming.configure({ firstEventDelayMs: 0 });
    }
  });

  void it('ListVoices answers with the voices of info', async () => {
    const response = await listVoices(wyomingGateway.grpcAddress, 'de-DE');
    assert.deepEqual(response.voices.map((v) => [v.name, v.languages]), [['de_DE-thorsten-medium', ['de_DE']]]);
  });
});
