/**
 * Wyoming: the framing (both ways data is written, bytes split anywhere, bounds), and
 * ASR_PROVIDER=wyoming / TTS_PROVIDER=wyoming against the scripted Wyoming server over real TCP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WyomingRecognizer, type WyomingAsrSettings } from '../../src/providers/asr/wyoming.js';
import { WyomingSynthesizer, type WyomingTtsSettings } from '../../src/providers/tts/wyoming.js';
import { ProviderError, type TtsChunk } from '../../src/providers/types.js';
import { describe as describeServer, parseWyomingUri } from '../../src/providers/wyoming/connection.js';
import { encodeEvent, EventDecoder, WyomingProtocolError } from '../../src/providers/wyoming/protocol.js';
import { closedPort } from '../support/closed-port.js';
import { startScriptedWyoming, type ScriptedWyoming } from '../support/scripted-wyoming-server.js';
import { collect, speakUtterance } from '../support/utterance-driver.js';

let server: ScriptedWyoming;
before(async () => {
  server = await startScriptedWyoming({ chunkDelayMs: 5 });
});
after(() => server.close());

void describe('Wyoming framing', () => {
  void it('a header line, data bytes and payload; read back however the bytes are split', () => {
    const bytes = encodeEvent({ type: 'audio-chunk', data: { rate: 16000, width: 2, channels: 1 }, payload: Uint8Array.of(1, 2, 3, 4) });
    const header = JSON.parse(bytes.subarray(0, bytes.indexOf(0x0a)).toString()) as Record<string, unknown>;
    assert.deepEqual(header, { type: 'audio-chunk', version: '1.7.0', data_length: 37, payload_length: 4 });
    for (const cut of [1, 10, bytes.indexOf(0x0a) + 1, bytes.length - 2]) {
      const decoder = new EventDecoder(1 << 20);
      const events = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      assert.deepEqual(events, [{ type: 'audio-chunk', data: { rate: 16000, width: 2, channels: 1 }, payload: Uint8Array.of(1, 2, 3, 4) }], `cut at ${cut}`);
    }
  });

  void it('data in the header line (older writers) is merged under the data bytes; events without data have {}', () => {
    const decoder = new EventDecoder(1 << 20);
    const events = decoder.push(Buffer.from('{"type":"transcript","data":{"text":"old","language":"en"},"data_length":14}\n{"text":"new"}{"type":"audio-stop"}\n'));
    assert.deepEqual(events, [
      { type: 'transcript', data: { text: 'new', language: 'en' } },
      { type: 'audio-stop', data: {} },
    ]);
  });

  void it('bytes that are not Wyoming, and lengths past the bound, are refused with a reason', () => {
    assert.throws(() => new EventDecoder(1024).push(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), WyomingProtocolError);
    assert.throws(() => new EventDecoder(1024).push(Buffer.from('{"type":"audio-chunk","payload_length":5000}\n')), /announces 5000 bytes, more than 1024/);
    assert.throws(() => new EventDecoder(1024).push(Buffer.alloc(2000, 0x41)), /header is longer than 1024 bytes/);
    assert.throws(() => new EventDecoder(1024).push(Buffer.from('{"type":"x","data_length":-1}\n')), /bad data_length/);
  });

  void it('describe is answered by info: the programs, models, voices and streaming flags', async () => {
    server.configure({ streamTranscripts: true });
    const info = await describeServer(parseWyomingUri(server.uri), 'asr', { timeoutMs: 2000, timeoutSetting: 'ASR_TIMEOUT_MS', maxEventBytes: 1 << 20 });
    server.configure({ streamTranscripts: false });
    assert.deepEqual(info.asr.map((p) => [p.name, p.supportsTranscriptStreaming, p.models.map((m) => [m.name, m.languages])]), [['faster-whisper', true, [['small-int8', ['en', 'de']]]]]);
    assert.deepEqual(info.tts[0]!.voices.map((v) => v.name), ['en_US-lessac-medium', 'en_GB-alba-medium', 'de_DE-thorsten-medium']);
  });
});

function recognizer(extra: Partial<WyomingAsrSettings> = {}): WyomingRecognizer {
  return new WyomingRecognizer({ address: parseWyomingUri(server.uri), model: '', maxUtteranceMs: 30000, paddingMs: 300, timeoutMs: 3000, retries: 1, maxEventBytes: 1 << 20, ...extra });
}

function open(r: WyomingRecognizer, signal = new AbortController().signal) {
  const stream = r.stream({ language: 'en-US', sampleRateHz: 16000 }, signal);
  return { stream, done: collect(stream) };
}

void describe('ASR_PROVIDER=wyoming', () => {
  void it('each utterance is one connection: transcribe, audio-start, its audio as spoken, audio-stop; the transcript is the final', async () => {
    const before = server.sessions.length;
    const { stream, done } = open(recognizer({ model: 'small-int8' }));
    await speakUtterance(stream, 800);
    await speakUtterance(stream, 400);
    stream.end();
    const { results, error } = await done;
    assert.equal(error, undefined);
    assert.deepEqual(results, [
      { kind: 'final', text: 'utterance of 800 ms' },
      { kind: 'final', text: 'utterance of 400 ms' },
    ]);
    const [first] = server.sessions.slice(before);
    const types = first!.received.map((e) => e.type);
    assert.deepEqual([types[0], types[1], types.at(-1)], ['transcribe', 'audio-start', 'audio-stop']);
    assert.deepEqual(first!.received[0]!.data, { language: 'en', name: 'small-int8' });
    assert.deepEqual(first!.received[1]!.data, { rate: 16000, width: 2, channels: 1 });
    assert.equal(first!.received.filter((e) => e.type === 'audio-chunk').reduce((n, e) => n + e.payloadBytes, 0), (200 + 800 + 300) * 32);
  });

  void it('a server that streams its transcript: the chunks are partials, and older writers\' inline data is read too', async () => {
    server.configure({ streamTranscripts: true, inlineData: true });
    const { stream, done } = open(recognizer());
    await speakUtterance(stream, 600);
    stream.end();
    const { results } = await done;
    server.configure({ streamTranscripts: false, inlineData: false });
    assert.deepEqual(results, [
      { kind: 'partial', text: 'utterance' },
      { kind: 'partial', text: 'utterance of' },
      { kind: 'partial', text: 'utterance of 600' },
      { kind: 'partial', text: 'utterance of 600 ms' },
      { kind: 'final', text: 'utterance of 600 ms' },
    ]);
  });

  void it('a connection dropped before the transcript is opened again and the utterance sent again', async () => {
    server.failNext('drop');
    const before = server.sessions.length;
    const { stream, done } = open(recognizer());
    await speakUtterance(stream, 700);
    stream.end();
    const { results, error } = await done;
    assert.equal(error, undefined);
    assert.deepEqual(results, [{ kind: 'final', text: 'utterance of 700 ms' }]);
    assert.equal(server.sessions.length - before, 2);
  });

  void it('an error event, a stall past ASR_TIMEOUT_MS, and nothing listening each fail the stream with a reason', async () => {
    server.failNext('error');
    let run = open(recognizer());
    await speakUtterance(run.stream, 500);
    run.stream.end();
    let error = (await run.done).error;
    assert.ok(error instanceof ProviderError && error.kind === 'asr');
    assert.match(error.message, /reported an error: scripted failure \(ScriptedError\)/);

    server.failNext('stall');
    run = open(recognizer({ timeoutMs: 300 }));
    await speakUtterance(run.stream, 500);
    run.stream.end();
    assert.match((await run.done).error!.message, /sent nothing within \d+ ms while we waited for a transcript \(ASR_TIMEOUT_MS\)/);

    const port = await closedPort();
    run = open(recognizer({ address: parseWyomingUri(`tcp://127.0.0.1:${port}`) }));
    await speakUtterance(run.stream, 500);
    run.stream.end();
    error = (await run.done).error;
    assert.match(error!.message, /could not reach the Wyoming speech-to-text server at tcp:\/\/127.0.0.1:\d+ \(ECONNREFUSED\): check WYOMING_ASR_URI/);
  });

  void it('aborting the stream closes the connection while the server works: it sees the client leave', async () => {
    server.configure({ firstEventDelayMs: 1000 });
    const received = server.nextRequest();
    const aborted = server.nextAbort();
    const control = new AbortController();
    const { stream, done } = open(recognizer(), control.signal);
    await speakUtterance(stream, 500);
    assert.equal(stream.awaitingFinal, true);
    await received; // the server has the utterance and works on it
    control.abort();
    const session = await aborted;
    server.configure({ firstEventDelayMs: 0 });
    assert.equal(session.finished, false);
    assert.deepEqual(await done, { results: [] });
  });
});

function synthesizer(extra: Partial<WyomingTtsSettings> = {}): WyomingSynthesizer {
  return new WyomingSynthesizer({ address: parseWyomingUri(server.uri), timeoutMs: 3000, maxPieceAudioMs: 60000, maxEventBytes: 1 << 20, ...extra });
}

async function speak(tts: WyomingSynthesizer, text: string, opts: { voice?: string; signal?: AbortSignal; onChunk?: (c: TtsChunk) => void } = {}) {
  const chunks: TtsChunk[] = [];
  try {
    for await (const chunk of tts.stream(text, { voice: opts.voice ?? '', language: 'en-US', sampleRateHz: 16000 }, opts.signal ?? new AbortController().signal)) {
      chunks.push(chunk);
      opts.onChunk?.(chunk);
    }
    return { chunks, samples: chunks.reduce((n, c) => n + c.pcm.length, 0) };
  } catch (error) {
    return { chunks, samples: chunks.reduce((n, c) => n + c.pcm.length, 0), error: error as Error };
  }
}

void describe('TTS_PROVIDER=wyoming', () => {
  const TEXT = 'It is sunny and warm today.';

  void it('synthesize is answered by audio at the voice\'s rate (22.05 kHz), streamed and resampled to the session\'s', async () => {
    const before = server.sessions.length;
    let finishedAtFirst: boolean | undefined;
    const { chunks, samples, error } = await speak(synthesizer(), TEXT, { voice: 'en_US-lessac-medium', onChunk: () => (finishedAtFirst ??= server.sessions[before]!.finished) });
    assert.equal(error, undefined);
    assert.equal(finishedAtFirst, false, 'the first audio came while the server was still sending');
    assert.ok(chunks.every((c) => c.sampleRateHz === 16000));
    assert.equal(samples, Math.round((Math.round((22050 * 40 * TEXT.length) / 1000) * 16000) / 22050));
    assert.deepEqual(server.sessions[before]!.received[0], { type: 'synthesize', data: { text: TEXT, voice: { name: 'en_US-lessac-medium' } }, payloadBytes: 0 });
  });

  void it('ListVoices answers with the voices of info, which speak en_US-style languages', async () => {
    const voices = await synthesizer().listVoices();
    assert.deepEqual(voices.map((v) => [v.name, v.languages]), [
      ['en_US-lessac-medium', ['en_US']],
      ['en_GB-alba-medium', ['en_GB']],
      ['de_DE-thorsten-medium', ['de_DE']],
    ]);
  });

  void it('barge-in: aborting mid-audio closes the connection, and the server sees the client leave', async () => {
    const aborted = server.nextAbort();
    const control = new AbortController();
    const { error, samples } = await speak(synthesizer(), TEXT, { signal: control.signal, onChunk: () => control.abort() });
    const session = await aborted;
    assert.equal(error, undefined);
    assert.equal(session.finished, false);
    assert.ok(samples > 0);
  });

  void it('an error event, a dropped connection and a stall each fail the piece with a reason', async () => {
    server.failNext('error');
    assert.match((await speak(synthesizer(), TEXT)).error!.message, /reported an error: scripted failure/);
    server.failNext('drop');
    const dropped = await speak(synthesizer(), TEXT);
    assert.match(dropped.error!.message, /closed the connection before sending more audio/);
    assert.ok(dropped.samples > 0);
    server.failNext('stall');
    assert.match((await speak(synthesizer({ timeoutMs: 300 }), TEXT)).error!.message, /sent nothing within 300 ms while we waited for audio \(TTS_TIMEOUT_MS\)/);
  });
});
