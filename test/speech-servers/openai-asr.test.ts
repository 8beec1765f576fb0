/**
 * ASR_PROVIDER=openai against the scripted speech server over real HTTP: multipart uploads, the
 * streamed transcript shapes of OpenAI, speaches and vLLM, partials of long utterances, the
 * longest utterance, retries, and each fault a server has.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAiRecognizer, type OpenAiAsrSettings } from '../../src/providers/asr/openai.js';
import { ProviderError, type AsrResult } from '../../src/providers/types.js';
import { silence, tone } from '../support/scripted-providers.js';
import { closedPort } from '../support/closed-port.js';
import { startScriptedSpeechServer, type ScriptedSpeechServer, type SseShape } from '../support/scripted-speech-server.js';
import { collect, speakUtterance } from '../support/utterance-driver.js';

const PATH = '/v1/audio/transcriptions';
let server: ScriptedSpeechServer;

before(async () => {
  server = await startScriptedSpeechServer({ chunkDelayMs: 5 });
});
after(() => server.close());

function recognizer(extra: Partial<OpenAiAsrSettings> = {}): OpenAiRecognizer {
  return new OpenAiRecognizer({
    baseUrl: server.baseUrl,
    model: 'whisper-small',
    stream: true,
    partialIntervalMs: 0,
    maxUtteranceMs: 30000,
    paddingMs: 300,
    timeoutMs: 5000,
    retries: 1,
    maxResponseBytes: 1 << 20,
    ...extra,
  });
}

function open(r: OpenAiRecognizer, signal = new AbortController().signal) {
  const stream = r.stream({ language: 'en-US', sampleRateHz: 16000 }, signal);
  return { stream, done: collect(stream) };
}

void describe('ASR_PROVIDER=openai', () => {
  for (const shape of ['openai', 'speaches', 'speaches-main', 'vllm'] as SseShape[]) {
    void it(`an utterance goes up as a WAV when it ends; ${shape}'s streamed deltas are partials, then the final`, async () => {
      server.configure({ sse: shape });
      const before = server.requests.length;
      const { stream, done } = open(recognizer());
      await speakUtterance(stream, 800);
      stream.end();
      const { results, error } = await done;
      assert.equal(error, undefined);
      assert.deepEqual(results.at(-1), { kind: 'final', text: 'utterance of 800 ms' });
      assert.deepEqual(results.slice(0, -1).map((r) => r.text), ['utterance', 'utterance of', 'utterance of 800', 'utterance of 800 ms']);
      const [request] = server.requests.slice(before);
      assert.deepEqual([request!.fields.model, request!.fields.language, request!.fields.stream, request!.fields.response_format], ['whisper-small', 'en', 'true', 'json']);
      assert.equal(request!.upload!.rateHz, 16000);
      // The lead-in (the 200 ms of silence there was, less than the 300 ms padding), the speech and its 300 ms tail.
      assert.equal(request!.upload!.durationMs, 200 + 800 + 300);
    });
  }

  void it('a server that answers JSON to stream=true, or streaming turned off: one final', async () => {
    server.configure({ sse: 'none' });
    for (const stream of [true, false]) {
      const before = server.requests.length;
      const { stream: asr, done } = open(recognizer({ stream }));
      await speakUtterance(asr, 600);
      asr.end();
      assert.deepEqual((await done).results, [{ kind: 'final', text: 'utterance of 600 ms' }]);
      assert.equal(server.requests[before]!.fields.stream, stream ? 'true' : undefined);
    }
    server.configure({ sse: 'openai' });
  });

  void it('finals come in the order spoken, though the second utterance is answered first', async () => {
    server.configure({ sse: 'none', firstByteDelayMs: 300 });
    const { stream, done } = open(recognizer());
    await speakUtterance(stream, 500);
    server.configure({ firstByteDelayMs: 0 });
    await speakUtterance(stream, 900);
    assert.equal(stream.awaitingFinal, true, 'words are on their way');
    stream.end();
    assert.deepEqual((await done).results.map((r) => r.text), ['utterance of 500 ms', 'utterance of 900 ms']);
    server.configure({ sse: 'openai' });
  });

  void it('a long utterance gets partials from its audio so far, one request at a time; the final aborts the one in flight', async () => {
    server.configure({ sse: 'none' });
    const before = server.requests.length;
    const stream = recognizer({ partialIntervalMs: 500 }).stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const results: AsrResult[] = [];
    let arrived: () => void = () => undefined;
    const consumed = (async () => {
      for await (const result of stream) {
        results.push(result);
        arrived();
      }
    })();
    const partials = () => results.filter((r) => r.kind === 'partial').map((r) => r.text);
    const untilPartials = async (n: number) => {
      while (partials().length < n) await new Promise<void>((resolve) => (arrived = resolve));
    };
    const write = (pcm: Int16Array) => {
      for (let at = 0; at < pcm.length; at += 1600) stream.write(pcm.subarray(at, at + 1600));
    };
    write(silence(200));
    write(tone(100));
    stream.speech?.({ type: 'start', msAgo: 100 });
    // 300 ms in (the lead-in): the first partial is asked for at 500 ms (300 of them tone), and answered slowly.
    server.configure({ firstByteDelayMs: 300 });
    const first = server.nextRequest(PATH);
    write(tone(400));
    await first;
    server.configure({ firstByteDelayMs: 0 });
    write(tone(1500)); // three intervals more, while the first partial is in flight: no second request yet
    assert.equal(server.requests.length - before, 1, 'one partial request at a time');
    await untilPartials(1);
    assert.deepEqual(partials(), ['utterance of 300 ms']);
    write(tone(100)); // the utterance grew by more than the interval since the last partial: another
    await untilPartials(2);
    assert.deepEqual(partials(), ['utterance of 300 ms', 'utterance of 2100 ms']);
    // A partial in flight when the utterance ends is aborted: the final supersedes it.
    server.configure({ firstByteDelayMs: 5000 });
    const third = server.nextRequest(PATH);
    write(tone(500));
    await third;
    server.configure({ firstByteDelayMs: 0 });
    const aborted = server.nextAbort(PATH);
    write(silence(300));
    stream.speech?.({ type: 'end', msAgo: 300 });
    stream.end();
    await consumed;
    assert.equal((await aborted).fields.stream, undefined, 'the partial request was aborted');
    assert.deepEqual(results.at(-1), { kind: 'final', text: 'utterance of 2600 ms' });
    const uploads = server.requests.slice(before).map((r) => [r.fields.stream ?? 'partial', r.upload!.durationMs]);
    assert.deepEqual(uploads, [['partial', 500], ['partial', 2300], ['partial', 2800], ['true', 3100]], 'each window is the utterance so far');
    server.configure({ sse: 'openai' });
  });

  void it('an utterance longer than ASR_MAX_UTTERANCE_MS is cut there: no upload carries more', async () => {
    server.configure({ sse: 'none' });
    const before = server.requests.length;
    const { stream, done } = open(recognizer({ maxUtteranceMs: 5000 }));
    await speakUtterance(stream, 7000);
    stream.end();
    const { results } = await done;
    const uploads = server.requests.slice(before).map((r) => r.upload!.durationMs);
    assert.deepEqual(results.map((r) => r.kind), ['final', 'final']);
    assert.ok(uploads.every((ms) => ms <= 5000), JSON.stringify(uploads));
    assert.equal(uploads.reduce((a, b) => a + b, 0), 200 + 7000 + 300, 'every sample went up once');
    server.configure({ sse: 'openai' });
  });
});

void describe('ASR_PROVIDER=openai: faults', () => {
  async function failing(extra: Partial<OpenAiAsrSettings> = {}): Promise<{ error?: Error; requests: number }> {
    const before = server.requests.length;
    const { stream, done } = open(recognizer(extra));
    await speakUtterance(stream, 500);
    stream.end();
    const { error } = await done;
    return { error, requests: server.requests.length - before };
  }

  void it('HTTP 500: the stream fails with the server\'s words, not sent again', async () => {
    server.failNext(PATH, { status: 500, body: '{"detail":"CUDA out of memory"}' });
    const { error, requests } = await failing();
    assert.ok(error instanceof ProviderError && error.kind === 'asr');
    assert.match(error.message, /answered HTTP 500 \(server error\): \{"detail":"CUDA out of memory"\}/);
    assert.equal(requests, 1);
  });

  void it('HTTP 503 and a connection dropped mid-body are sent again (ASR_RETRIES) and the words come', async () => {
    for (const fault of [{ status: 503 }, 'drop'] as const) {
      server.failNext(PATH, fault);
      const before = server.requests.length;
      const { stream, done } = open(recognizer());
      await speakUtterance(stream, 700);
      stream.end();
      const { results, error } = await done;
      assert.equal(error, undefined, JSON.stringify(fault));
      assert.equal(results.at(-1)?.text, 'utterance of 700 ms');
      assert.equal(server.requests.length - before, 2);
    }
  });

  void it('a server that stalls mid-answer fails the stream after ASR_TIMEOUT_MS', async () => {
    server.failNext(PATH, 'stall');
    const { error } = await failing({ timeoutMs: 400 });
    assert.match(error!.message, /did not answer within 400 ms \(ASR_TIMEOUT_MS\)/);
  });

  void it('a bad key and a missing model say which setting to fix', async () => {
    server.failNext(PATH, { status: 401, body: '{"detail":"bad key"}' });
    assert.match((await failing()).error!.message, /HTTP 401; check ASR_API_KEY/);
    server.failNext(PATH, { status: 404, body: '{"detail":"Model \'x\' is not installed"}' });
    assert.match((await failing()).error!.message, /HTTP 404; the model "whisper-small" \(ASR_MODEL\) may not be installed/);
  });

  void it('nothing listening: tried again once, then a clear failure', async () => {
    const port = await closedPort();
    const { stream, done } = open(recognizer({ baseUrl: `http://127.0.0.1:${port}/v1` }));
    await speakUtterance(stream, 500);
    stream.end();
    assert.match((await done).error!.message, /could not reach the transcription server .* \(ECONNREFUSED\): check ASR_BASE_URL/);
  });

  void it('aborting the stream aborts the request in flight: the server sees it', async () => {
    server.configure({ firstByteDelayMs: 2000 });
    const received = server.nextRequest(PATH);
    const aborted = server.nextAbort(PATH);
    const control = new AbortController();
    const { stream, done } = open(recognizer(), control.signal);
    await speakUtterance(stream, 500);
    await received; // the server is working on it
    control.abort();
    const request = await aborted;
    server.configure({ firstByteDelayMs: 0 });
    assert.equal(request.finished, false);
    assert.deepEqual(await done, { results: [] });
  });
});
