/**
 * A scripted Wyoming server for tests over real TCP, with its own reading and writing of the
 * framing (written from rhasspy/wyoming's README and event.py, not with the gateway's code): a
 * JSON header line, then `data_length` bytes of JSON, then `payload_length` bytes. It behaves as
 * the servers users run: as wyoming-faster-whisper, it collects `audio-chunk`s until `audio-stop`,
 * answers one `transcript` (optionally streamed first as transcript-start/-chunk/-stop, as
 * wyoming 1.7 servers do) and closes the connection; as wyoming-piper, it answers `synthesize`
 * with `audio-start`, `audio-chunk`s at the voice's rate (22.05 kHz) and `audio-stop`, and keeps
 * the connection. Faults: an `error` event, a stall, a connection dropped mid-answer.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ABORT_WAIT_MS, bounded, voicedMs } from './scripted-speech-server.js';

export type WyomingFault = 'stall' | 'drop' | 'error';

export interface WyomingServerOptions {
  /** Offer speech-to-text, text-to-speech, or both (in `info`). */
  offers?: Array<'asr' | 'tts'>;
  /** Stream transcripts (transcript-start/-chunk/-stop before the transcript). */
  streamTranscripts?: boolean;
  words?: (voicedMs: number) => string;
  /** Wait before the answer's first event. */
  firstEventDelayMs?: number;
  /** Wait between the audio chunks of an answer. */
  chunkDelayMs?: number;
  ttsRateHz?: number;
  msPerChar?: number;
  /** Write `data` inside the header line, as older writers did, instead of after it. */
  inlineData?: boolean;
  /** Told when an answer's first event is written (the bench, from another process). */
  onFirstByte?: (session: WyomingSession) => void;
}

export interface WyomingSession {
  /** Every event the client sent, in order. */
  received: Array<{ type: string; data: Record<string, unknown>; payloadBytes: number }>;
  /** The client closed the connection before the answer was complete. */
  aborted: boolean;
  finished: boolean;
  /** performance.now() when the answer's first event was written. */
  firstByteAt?: number;
}

export interface ScriptedWyoming {
  uri: string;
  sessions: WyomingSession[];
  failNext(fault: WyomingFault, count?: number): void;
  configure(options: Partial<WyomingServerOptions>): void;
  /** Resolves when a connection is closed by the client before its answer was complete; rejects if none is within `withinMs`. */
  nextAbort(withinMs?: number): Promise<WyomingSession>;
  /** Resolves when a whole request (audio-stop, or synthesize) has come in. */
  nextRequest(): Promise<WyomingSession>;
  close(): Promise<void>;
}

const DEFAULTS: Required<WyomingServerOptions> = {
  offers: ['asr', 'tts'],
  streamTranscripts: false,
  words: (voicedMs) => `utterance of ${Math.round(voicedMs / 100) * 100} ms`,
  firstEventDelayMs: 0,
  chunkDelayMs: 0,
  ttsRateHz: 22050,
  msPerChar: 40,
  inlineData: false,
  onFirstByte: () => undefined,
};

const attribution = { name: 'scripted', url: 'https://example.invalid' };

export async function startScriptedWyoming(initial: WyomingServerOptions = {}): Promise<ScriptedWyoming> {
  let opts = { ...DEFAULTS, ...initial };
  const sessions: WyomingSession[] = [];
  const faults: WyomingFault[] = [];
  const abortWaiters: Array<(s: WyomingSession) => void> = [];
  const requestWaiters: Array<(s: WyomingSession) => void> = [];
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    const session: WyomingSession = { received: [], aborted: false, finished: false };
    sessions.push(session);
    let asked = false;
    let buffer = Buffer.alloc(0);
    let audio: Buffer[] = [];
    socket.on('close', () => {
      sockets.delete(socket);
      if (asked && !session.finished) {
        session.aborted = true;
        abortWaiters.splice(0).forEach((resolve) => resolve(session));
      }
    });
    socket.on('error', () => undefined);
    const write = (type: string, data: Record<string, unknown> = {}, payload?: Buffer) => {
      if (socket.destroyed) return;
      const body = Buffer.from(JSON.stringify(data));
      const header = opts.inlineData
        ? { type, data, ...(payload && { payload_length: payload.length }) }
        : { type, version: '1.7.0', data_length: body.length, ...(payload && { payload_length: payload.length }) };
      if (session.firstByteAt === undefined && type !== 'info') {
        session.firstByteAt = performance.now();
        opts.onFirstByte(session);
      }
      socket.write(Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...(opts.inlineData ? [] : [body]), ...(payload ? [payload] : [])]));
    };
    const onEvent = async (type: string, data: Record<string, unknown>, payload: Buffer) => {
      session.received.push({ type, data, payloadBytes: payload.length });
      if (type === 'transcribe' || type === 'synthesize') asked = true;
      if (type === 'describe') return write('info', info());
      if (type === 'audio-chunk') return void audio.push(payload);
      if (type !== 'audio-stop' && type !== 'synthesize') return;
      requestWaiters.splice(0).forEach((resolve) => resolve(session));
      const fault = faults.shift();
      if (opts.firstEventDelayMs > 0) await sleep(opts.firstEventDelayMs);
      if (fault === 'error') return write('error', { text: 'scripted failure', code: 'ScriptedError' });
      if (fault === 'stall') return;
      if (type === 'audio-stop') {
        const bytes = Buffer.concat(audio);
        const pcm = Int16Array.from({ length: bytes.length >> 1 }, (_, i) => bytes.readInt16LE(i * 2));
        audio = [];
        await transcribe(pcm, fault);
      } else {
        await synthesize(typeof data.text === 'string' ? data.text : '', fault);
      }
    };
    const transcribe = async (pcm: Int16Array, fault: WyomingFault | undefined) => {
      const text = opts.words(voicedMs(pcm, 16000));
      if (opts.streamTranscripts) {
        write('transcript-start', { language: 'en' });
        for (const word of text.match(/\s*\S+/g) ?? []) {
          if (opts.chunkDelayMs > 0) await sleep(opts.chunkDelayMs);
          if (fault === 'drop') return void socket.destroy();
          write('transcript-chunk', { text: word });
        }
        write('transcript-stop');
      } else if (fault === 'drop') return void socket.destroy();
      write('transcript', { text, language: 'en' });
      session.finished = true;
      socket.end(); // as wyoming-faster-whisper: one transcript per connection
    };
    const synthesize = async (text: string, fault: WyomingFault | undefined) => {
      const rate = opts.ttsRateHz;
      write('audio-start', { rate, width: 2, channels: 1 });
      const samples = Math.round((rate * opts.msPerChar * Math.max(1, text.length)) / 1000);
      const perChunk = 1024; // wyoming-piper's --samples-per-chunk default
      for (let at = 0, i = 0; at < samples; at += perChunk, i++) {
        if (i > 0 && opts.chunkDelayMs > 0) await sleep(opts.chunkDelayMs);
        if (socket.destroyed) return;
        if (fault === 'drop' && i === 2) return void socket.destroy();
        const pcm = new Int16Array(Math.min(perChunk, samples - at));
        for (let j = 0; j < pcm.length; j++) pcm[j] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * (at + j)) / rate));
        write('audio-chunk', { rate, width: 2, channels: 1 }, Buffer.from(pcm.buffer));
      }
      write('audio-stop');
      session.finished = true;
    };
    // Events are handled one at a time, in order, as the Python server's handler does.
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const newline = buffer.indexOf('\n');
        if (newline < 0) return;
        const header = JSON.parse(buffer.subarray(0, newline).toString()) as { type: string; data?: Record<string, unknown>; data_length?: number; payload_length?: number };
        const dataLength = header.data_length ?? 0;
        const payloadLength = header.payload_length ?? 0;
        if (buffer.length < newline + 1 + dataLength + payloadLength) return;
        const dataBytes = buffer.subarray(newline + 1, newline + 1 + dataLength);
        const data = { ...(header.data ?? {}), ...(dataLength > 0 ? (JSON.parse(dataBytes.toString()) as Record<string, unknown>) : {}) };
        const payload = Buffer.from(buffer.subarray(newline + 1 + dataLength, newline + 1 + dataLength + payloadLength));
        buffer = buffer.subarray(newline + 1 + dataLength + payloadLength);
        queue = queue.then(() => onEvent(header.type, data, payload));
      }
    });
  });

  function info(): Record<string, unknown> {
    return {
      asr: opts.offers.includes('asr')
        ? [{ name: 'faster-whisper', attribution, installed: true, description: 'scripted', version: '2.0.0', supports_transcript_streaming: opts.streamTranscripts, models: [{ name: 'small-int8', attribution, installed: true, description: null, version: null, languages: ['en', 'de'] }] }]
        : [],
      tts: opts.offers.includes('tts')
        ? [{ name: 'piper', attribution, installed: true, description: 'scripted', version: '1.6.0', supports_synthesize_streaming: true, voices: ['en_US-lessac-medium', 'en_GB-alba-medium', 'de_DE-thorsten-medium'].map((name) => ({ name, attribution, installed: true, description: null, version: null, languages: [name.split('-')[0]] })) }]
        : [],
      handle: [],
      intent: [],
      wake: [],
      mic: [],
      snd: [],
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `tcp://127.0.0.1:${port}`,
    sessions,
    failNext: (fault, count = 1) => {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    configure: (changes) => {
      opts = { ...opts, ...changes };
    },
    nextAbort: (withinMs = ABORT_WAIT_MS) => bounded(new Promise((resolve) => abortWaiters.push(resolve)), withinMs, `no Wyoming connection was closed by the gateway within ${withinMs} ms`),
    nextRequest: () => new Promise((resolve) => requestWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

