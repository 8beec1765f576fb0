/**
 * TTS_PROVIDER=openai against the scripted speech server over real HTTP: raw PCM read from a
 * chunked body as it arrives (chunks cut off the sample grid), resampled to the session's rate,
 * voices in Kokoro-FastAPI's and speaches' shapes, and each fault a server has.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAiSynthesizer, type OpenAiTtsSettings } from '../../src/providers/tts/openai.js';
import { ProviderError, type TtsChunk } from '../../src/providers/types.js';
import { closedPort } from '../support/closed-port.js';
import { startScriptedSpeechServer, type ScriptedSpeechServer } from '../support/scripted-speech-server.js';

const PATH = '/v1/audio/speech';
const TEXT = 'It is sunny and warm today.'; // 27 characters: 1080 ms at the server's 40 ms per character
let server: ScriptedSpeechServer;

before(async () => {
  server = await startScriptedSpeechServer({ chunkDelayMs: 20 });
});
after(() => server.close());

function synthesizer(extra: Partial<OpenAiTtsSettings> = {}): OpenAiSynthesizer {
  return new OpenAiSynthesizer({
    baseUrl: server.baseUrl,
    model: 'kokoro',
    serverRateHz: 24000,
    timeoutMs: 5000,
    maxPieceAudioMs: 60000,
    maxResponseBytes: 1 << 20,
    language: 'en-US',
    defaultVoice: '',
    ...extra,
  });
}

async function speak(tts: OpenAiSynthesizer, opts: { voice?: string; rateHz?: number; signal?: AbortSignal; onChunk?: (c: TtsChunk) => void } = {}) {
  const chunks: TtsChunk[] = [];
  try {
    for await (const chunk of tts.stream(TEXT, { voice: opts.voice ?? 'af_bella', language: 'en-US', sampleRateHz: opts.rateHz ?? 16000 }, opts.signal ?? new AbortController().signal)) {
      chunks.push(chunk);
      opts.onChunk?.(chunk);
    }
    return { chunks, samples: chunks.reduce((n, c) => n + c.pcm.length, 0) };
  } catch (error) {
    return { chunks, samples: chunks.reduce((n, c) => n + c.pcm.length, 0), error: error as Error };
  }
}

void describe('TTS_PROVIDER=openai', () => {
  void it('raw PCM is read as it arrives: the first audio comes before the server has finished, resampled to the session\'s rate', async () => {
    const before = server.requests.length;
    let finishedAtFirstChunk: boolean | undefined;
    const { chunks, samples, error } = await speak(synthesizer(), { onChunk: () => (finishedAtFirstChunk ??= server.requests[before]!.finished) });
    assert.equal(error, undefined);
    assert.equal(finishedAtFirstChunk, false, 'the body was still coming');
    assert.ok(chunks.length >= 5 && chunks.every((c) => c.sampleRateHz === 16000));
    assert.equal(samples, Math.round(TEXT.length * 40 * 16), '1080 ms at 16 kHz, once resampled and flushed');
    assert.deepEqual(server.requests[before]!.fields, { model: 'kokoro', input: TEXT, voice: 'af_bella', response_format: 'pcm' });
  });

  void it('at the server\'s own rate the samples pass through bit-exact, across chunks cut mid-sample', async () => {
    server.configure({ ttsRateHz: 16000 });
    const { chunks } = await speak(synthesizer({ serverRateHz: 16000 }));
    server.configure({ ttsRateHz: 24000 });
    const heard = Int16Array.from(chunks.flatMap((c) => [...c.pcm]));
    const expected = Int16Array.from({ length: TEXT.length * 40 * 16 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000)));
    assert.deepEqual(heard, expected);
  });

  void it('a session with no voice gets a listed one for its language; ListVoices reads Kokoro-FastAPI and speaches', async () => {
    const before = server.requests.length;
    await speak(synthesizer(), { voice: '' });
    assert.equal(server.requests[before]!.fields.voice, 'af_heart');
    const kokoro = await synthesizer().listVoices();
    assert.deepEqual(kokoro.slice(0, 4), [
      { name: 'af_heart', languages: ['en-us'] },
      { name: 'af_bella', languages: ['en-us'] },
      { name: 'bm_george', languages: ['en-gb'] },
      { name: 'jf_alpha', languages: ['ja'] },
    ]);
    server.configure({ voices: 'speaches' });
    assert.deepEqual(await synthesizer().listVoices(), [
      { name: 'af_heart', languages: ['en-us'] },
      { name: 'ff_siwis', languages: ['fr-fr'] },
    ]);
    server.configure({ voices: 'none' });
    assert.deepEqual(await synthesizer({ defaultVoice: 'nova' }).listVoices(), [{ name: 'nova', languages: ['en-US'] }], 'OpenAI has no voice list: the configured voice');
    server.configure({ voices: 'kokoro' });
  });

  void it('barge-in: aborting the signal mid-body aborts the request, the server sees it, and the stream ends quietly', async () => {
    const aborted = server.nextAbort(PATH);
    const control = new AbortController();
    const { error, samples } = await speak(synthesizer(), { signal: control.signal, onChunk: () => control.abort() });
    const request = await aborted;
    assert.equal(error, undefined);
    assert.equal(request.finished, false);
    assert.ok(samples > 0 && samples < TEXT.length * 40 * 16);
  });

  void it('a server that sends more than TTS_MAX_PIECE_AUDIO_MS for a piece is cut off there', async () => {
    const { samples, error } = await speak(synthesizer({ maxPieceAudioMs: 1000 }), { rateHz: 24000 });
    assert.match(error!.message, /more than 1000 ms of audio for 27 characters: cut off there \(TTS_MAX_PIECE_AUDIO_MS\)/);
    assert.equal(samples, 24000);
  });
});

void describe('TTS_PROVIDER=openai: faults', () => {
  void it('HTTP 500 fails the piece with the server\'s words', async () => {
    server.failNext(PATH, { status: 500, body: '{"detail":{"error":"processing_error","message":"voice not loaded"}}' });
    const { error } = await speak(synthesizer());
    assert.ok(error instanceof ProviderError && error.kind === 'tts');
    assert.match(error.message, /answered HTTP 500 \(server error\): .*voice not loaded/);
  });

  void it('a body that stalls fails after TTS_TIMEOUT_MS; one dropped mid-body says how much audio came', async () => {
    server.failNext(PATH, 'stall');
    const stalled = await speak(synthesizer({ timeoutMs: 300 }));
    assert.match(stalled.error!.message, /stalled: no audio came for 300 ms \(TTS_TIMEOUT_MS\)/);
    assert.ok(stalled.samples > 0, 'the audio before the stall was passed on');
    server.failNext(PATH, 'drop');
    const dropped = await speak(synthesizer());
    assert.match(dropped.error!.message, /the speech from .* broke off after 200 ms of audio/);
  });

  void it('no answer at all within TTS_TIMEOUT_MS, and nothing listening, each say what to check', async () => {
    server.configure({ firstByteDelayMs: 1000 });
    const slow = await speak(synthesizer({ timeoutMs: 200 }));
    server.configure({ firstByteDelayMs: 0 });
    assert.match(slow.error!.message, /did not answer within 200 ms \(TTS_TIMEOUT_MS\)/);
    const port = await closedPort();
    const down = await speak(synthesizer({ baseUrl: `http://127.0.0.1:${port}/v1` }));
    assert.match(down.error!.message, new RegExp(`could not reach the speech server at http://127.0.0.1:${port}/v1/audio/speech \\(ECONNREFUSED\\): check TTS_BASE_URL`));
  });
});
