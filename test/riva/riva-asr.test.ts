/** The Riva ASR provider against the scripted Riva server: real gRPC on loopback. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { AudioEncoding } from '../../src/gen/riva/proto/riva_audio_pb.js';
import { rivaAsrSettings, rivaChannels } from '../../src/providers/riva/create.js';
import { RivaRecognizer } from '../../src/providers/riva/asr.js';
import { ProviderError, type AsrResult, type AsrStream } from '../../src/providers/types.js';
import { concat, delay, silence, tone } from '../support/scripted-providers.js';
import { startScriptedRiva, type ScriptedRiva } from '../support/scripted-riva-server.js';
import { waitUntil } from '../support/wait-until.js';

let riva: ScriptedRiva;

before(async () => {
  riva = await startScriptedRiva({ idleCloseMs: 1000 });
});
after(() => riva.close());

function recognizer(env: Record<string, string> = {}): RivaRecognizer {
  const config = loadConfig({ RIVA_URI: riva.address, RIVA_ASR_RECONNECT_BACKOFF_MS: '10', ...env });
  return new RivaRecognizer(rivaChannels(config).asr, rivaAsrSettings(config));
}

/** Results as they come, and how the stream ended. */
function collect(stream: AsrStream): { results: AsrResult[]; done: Promise<unknown> } {
  const results: AsrResult[] = [];
  const done = (async () => {
    for await (const result of stream) results.push(result);
  })().then(
    () => null,
    (error: unknown) => error,
  );
  return { results, done };
}

/** Writes `pcm` in pieces of `pieceMs`, as a session does with a client's chunks. */
function write(stream: AsrStream, pcm: Int16Array, pieceMs = 100): void {
  const step = (16000 * pieceMs) / 1000;
  for (let at = 0; at < pcm.length; at += step) stream.write(pcm.subarray(at, at + step));
}


const utterance = () => concat(silence(200), tone(800), silence(700));

void describe('Riva ASR provider', () => {
  void it('opens with the config from the settings, then sends audio in 100 ms messages', async () => {
    const calls = riva.asrCalls.length;
    const asr = recognizer({
      RIVA_ASR_MODEL: 'parakeet-1.1b-en-US-asr-streaming',
      RIVA_ASR_BOOSTED_WORDS: 'NVIDIA, Riva',
      RIVA_ASR_BOOST_SCORE: '20',
      RIVA_ASR_START_THRESHOLD: '0.3',
      RIVA_ASR_STOP_HISTORY_MS: '560',
      RIVA_ASR_CUSTOM_CONFIGURATION: 'enable_vad_endpointing:true,neural_vad.onset:0.65',
    });
    const stream = asr.stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const { done } = collect(stream);
    write(stream, utterance(), 37); // odd sizes: the provider makes its own 100 ms messages
    stream.end();
    assert.equal(await done, null);
    const call = riva.asrCalls[calls]!;
    const config = call.config!;
    assert.equal(config.interimResults, true);
    const c = config.config!;
    assert.equal(c.encoding, AudioEncoding.LINEAR_PCM);
    assert.equal(c.sampleRateHertz, 16000);
    assert.equal(c.languageCode, 'en-US');
    assert.equal(c.model, 'parakeet-1.1b-en-US-asr-streaming');
    assert.equal(c.enableAutomaticPunctuation, true);
    assert.equal(c.verbatimTranscripts, true);
    assert.deepEqual(c.speechContexts.map((s) => [s.phrases, s.boost]), [[['NVIDIA', 'Riva'], 20]]);
    assert.deepEqual(c.customConfiguration, { enable_vad_endpointing: 'true', 'neural_vad.onset': '0.65' });
    const e = c.endpointingConfig!;
    assert.equal(e.stopHistory, 560);
    assert.equal(e.stopHistoryEou, 240);
    assert.ok(Math.abs(e.startThreshold! - 0.3) < 1e-6);
    assert.equal(e.startHistory, undefined, 'unset fields stay unset: the model default applies');
    assert.equal(e.stopThreshold, undefined);
    assert.ok(call.chunkBytes.slice(0, -1).every((b) => b === 3200), `100 ms messages: ${call.chunkBytes.join(',')}`);
    assert.ok(call.halfClosed, 'end() half-closes the call');
    assert.match(call.requestId ?? '', /^voice-gateway-asr-[0-9a-f-]{36}$/, 'a RequestId (field 100) to find the call in Riva\'s log');
  });

  void it('takes 8 kHz phone audio as it is (Riva resamples on its server) and resamples nothing up', async () => {
    const asr = recognizer();
    assert.deepEqual([8000, 16000, 24000, 4000].map((rateHz) => asr.takesRate(rateHz)), [true, true, false, false], 'from 8 kHz up to RIVA_ASR_SAMPLE_RATE');
    const calls = riva.asrCalls.length;
    const stream = asr.stream({ language: 'en-US', sampleRateHz: 8000 }, new AbortController().signal);
    const { results, done } = collect(stream);
    const audio = concat(new Int16Array(1600), tone(800, 8000), new Int16Array(5600));
    for (let at = 0; at < audio.length; at += 800) stream.write(audio.subarray(at, at + 800));
    stream.end();
    assert.equal(await done, null);
    const call = riva.asrCalls[calls]!;
    assert.equal(call.config!.config!.sampleRateHertz, 8000);
    assert.ok(call.chunkBytes.slice(0, -1).every((b) => b === 1600), `100 ms messages at 8 kHz: ${call.chunkBytes.join(',')}`);
    assert.deepEqual(results.at(-1), { kind: 'final', text: 'utterance of 800 ms' });
  });

  void it('maps interims to partial, the stability-1.0 interim to stable and is_final to final', async () => {
    const stream = recognizer().stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const { results, done } = collect(stream);
    write(stream, utterance());
    stream.end();
    assert.equal(await done, null);
    const kinds = results.map((r) => r.kind);
    assert.ok(kinds.includes('partial'), kinds.join());
    assert.equal(kinds.filter((k) => k === 'stable').length, 1, kinds.join());
    assert.deepEqual(results.at(-1), { kind: 'final', text: 'utterance of 800 ms' });
    assert.ok(kinds.indexOf('stable') < kinds.indexOf('final'));
    assert.equal(results.find((r) => r.kind === 'stable')!.text, 'utterance of 800 ms');
  });

  void it('sends silence while no audio comes, so Riva does not close the stream as idle', async () => {
    const calls = riva.asrCalls.length;
    const controller = new AbortController();
    const stream = recognizer({ RIVA_ASR_KEEPALIVE_MS: '100' }).stream({ language: 'en-US', sampleRateHz: 16000 }, controller.signal);
    collect(stream);
    write(stream, silence(200));
    await delay(2500); // two and a half times the server's idle timeout
    const call = riva.asrCalls[calls]!;
    assert.equal(call.ended, undefined, `the stream is still open (${call.ended})`);
    assert.ok(call.receivedMs >= 1500, `silence was sent: ${call.receivedMs} ms received`);
    assert.equal(riva.asrCalls.length, calls + 1);
    controller.abort();
    await waitUntil(() => call.cancelled, 'the server sees the cancellation');
  });

  void it('a stream Riva closed as idle is reopened by the next audio', async () => {
    const calls = riva.asrCalls.length;
    const stream = recognizer({ RIVA_ASR_KEEPALIVE_MS: '60000' }).stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const { results, done } = collect(stream);
    write(stream, silence(200));
    await waitUntil(() => riva.asrCalls[calls]?.ended === 'idle' && !stream.hasCall, 'idle close, seen by the client');
    write(stream, utterance());
    stream.end();
    assert.equal(await done, null);
    assert.equal(riva.asrCalls.length, calls + 2);
    assert.deepEqual(results.at(-1), { kind: 'final', text: 'utterance of 800 ms' });
  });

  void it('a stream dropped mid-utterance is reopened and the utterance is recognized whole', async () => {
    const calls = riva.asrCalls.length;
    riva.dropAsrAfter(600); // 400 ms into the speech
    const stream = recognizer().stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const { results, done } = collect(stream);
    write(stream, utterance());
    stream.end();
    assert.equal(await done, null);
    assert.equal(riva.asrCalls[calls]!.ended, 'dropped');
    assert.equal(riva.asrCalls.length, calls + 2, 'one reopen');
    assert.deepEqual(
      results.filter((r) => r.kind === 'final'),
      [{ kind: 'final', text: 'utterance of 800 ms' }],
    );
  });

  void it('gives up after the retry budget with an error that says what to check', async () => {
    const calls = riva.asrCalls.length;
    riva.refuseAsr(10);
    const stream = recognizer({ RIVA_ASR_RECONNECT_RETRIES: '2' }).stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const { done } = collect(stream);
    write(stream, utterance());
    const error = await done;
    riva.refuseAsr(0);
    assert.ok(error instanceof ProviderError, String(error));
    assert.equal(error.kind, 'asr');
    assert.match(error.message, /UNAVAILABLE/);
    assert.match(error.message, /check RIVA_URI/);
    assert.match(error.message, /gave up after 2 reconnects \(RIVA_ASR_RECONNECT_RETRIES\)/);
    assert.equal(riva.asrCalls.length, calls + 3, 'the first try and two reopens');
  });

  void it('the retry budget starts again after an answer', async () => {
    const calls = riva.asrCalls.length;
    const stream = recognizer({ RIVA_ASR_RECONNECT_RETRIES: '1' }).stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const { results, done } = collect(stream);
    riva.refuseAsr(1);
    write(stream, utterance()); // refused, reopened (the whole budget), answered
    await waitUntil(() => results.some((r) => r.kind === 'final'), 'first final');
    riva.dropAsrAfter(0);
    write(stream, utterance()); // dropped, reopened: allowed again because the budget was reset
    stream.end();
    assert.equal(await done, null);
    assert.equal(results.filter((r) => r.kind === 'final').length, 2);
    assert.equal(riva.asrCalls.length, calls + 3);
  });

  void it('a language with no deployed model fails at once, without retries, naming the fix', async () => {
    const calls = riva.asrCalls.length;
    const stream = recognizer().stream({ language: 'xx-XX', sampleRateHz: 16000 }, new AbortController().signal);
    const { done } = collect(stream);
    write(stream, utterance());
    const error = await done;
    assert.ok(error instanceof ProviderError);
    assert.match(error.message, /INVALID_ARGUMENT: Unavailable model requested given these parameters: language_code=xx-XX; type=online/);
    assert.match(error.message, /check ASR_LANGUAGE/);
    assert.equal(riva.asrCalls.length, calls + 1);
  });

  void it('a call that reaches its deadline is replaced and recognition goes on', async () => {
    const calls = riva.asrCalls.length;
    const stream = recognizer({ RIVA_ASR_STREAM_DEADLINE_MS: '1000', RIVA_ASR_KEEPALIVE_MS: '100' }).stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
    const { results, done } = collect(stream);
    write(stream, silence(300));
    await waitUntil(() => riva.asrCalls.length >= calls + 2, 'a second call after the deadline', 5000);
    write(stream, utterance());
    stream.end();
    assert.equal(await done, null);
    assert.deepEqual(results.at(-1), { kind: 'final', text: 'utterance of 800 ms' });
  });

  void it('aborting cancels the call: the server sees the cancellation and the results end', async () => {
    const calls = riva.asrCalls.length;
    const controller = new AbortController();
    const stream = recognizer().stream({ language: 'en-US', sampleRateHz: 16000 }, controller.signal);
    const { done } = collect(stream);
    write(stream, tone(500));
    await waitUntil(() => (riva.asrCalls[calls]?.receivedMs ?? 0) >= 500, 'audio received');
    controller.abort();
    assert.equal(await done, null);
    await waitUntil(() => riva.asrCalls[calls]!.cancelled, 'cancellation seen by the server');
  });

  void it('refuses a first pass that is not shorter than the end of utterance', () => {
    assert.throws(() => recognizer({ RIVA_ASR_STOP_HISTORY_MS: '240', RIVA_ASR_STOP_HISTORY_EOU_MS: '240' }), /RIVA_ASR_STOP_HISTORY_EOU_MS=240 must be shorter than RIVA_ASR_STOP_HISTORY_MS=240/);
  });
});
