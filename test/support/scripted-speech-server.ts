/**
 * A scripted OpenAI-compatible speech server for tests, speaking the real wire formats over a
 * real socket: `POST /v1/audio/transcriptions` (multipart upload, parsed by undici's own
 * FormData parser) answered as JSON or as SSE in the shape a real server uses, and
 * `POST /v1/audio/speech` answered with raw PCM in a chunked body; `GET /v1/models` and
 * `GET /v1/audio/voices` as speaches, Kokoro-FastAPI or OpenAI (no voice route) answer them.
 * Answers are paced like a real server (first byte after a delay, then chunks over time), and
 * faults can be queued: an HTTP status, a stall, a connection dropped mid-body.
 *
 * The "words" of an upload come from its audio: the test speaks tones, and the transcript says
 * how much of the upload was loud (`utterance of 800 ms`), so each utterance is recognizable.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readWav } from '../../src/audio/wav.js';
import { rms } from './speech-fixtures.js';

/** How transcripts are streamed (see src/providers/asr/openai.ts for the sources). */
export type SseShape = 'openai' | 'speaches' | 'speaches-main' | 'vllm';

export type Fault = { status: number; body?: string } | 'stall' | 'drop';

export interface SpeechServerOptions {
  /** Shape of streamed transcripts; a request without stream=true always gets JSON. */
  sse?: SseShape | 'none';
  /** The transcript of an upload from its loud milliseconds. */
  words?: (voicedMs: number) => string;
  /** Wait before the first byte of any answer. */
  firstByteDelayMs?: number;
  /** Wait between streamed pieces (SSE events, PCM chunks). */
  chunkDelayMs?: number;
  /** Rate of the PCM /v1/audio/speech sends. */
  ttsRateHz?: number;
  /** Audio per character of the text to speak. */
  msPerChar?: number;
  /** Shape of GET /v1/audio/voices: Kokoro-FastAPI's, speaches' (with languages), or none (404, as OpenAI). */
  voices?: 'kokoro' | 'speaches' | 'none';
  /** Models GET /v1/models lists (speaches adds each speech model's sample_rate). */
  models?: Array<{ id: string; sample_rate?: number }>;
  /** Told when an answer's first byte is written (the bench, from another process). */
  onFirstByte?: (request: ServedRequest) => void;
}

export interface ServedRequest {
  path: string;
  /** Form fields (transcriptions) or JSON body (speech). */
  fields: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** Loud ms of an uploaded WAV, its length and rate. */
  upload?: { voicedMs: number; durationMs: number; rateHz: number };
  /** performance.now() when the first byte of the answer was written. */
  firstByteAt?: number;
  finished: boolean;
  /** The client closed the connection before the answer was complete. */
  aborted: boolean;
}

export interface ScriptedSpeechServer {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  requests: ServedRequest[];
  /** The next `count` answers to `path` (e.g. '/v1/audio/speech') fail with `fault`. */
  failNext(path: string, fault: Fault, count?: number): void;
  configure(options: Partial<SpeechServerOptions>): void;
  /** Resolves when a request to `path` has been aborted by the client; rejects if none is within `withinMs` (a hang would say nothing). */
  nextAbort(path: string, withinMs?: number): Promise<ServedRequest>;
  /** Resolves when the next request to `path` has been read (its answer not yet sent). */
  nextRequest(path: string): Promise<ServedRequest>;
  close(): Promise<void>;
}

/** How long a test waits for an abort it expects, by default: far past any wait of the gateway's under test. */
export const ABORT_WAIT_MS = 30_000;

/** `promise`, or a rejection saying `failure` once `withinMs` passed. */
export function bounded<T>(promise: Promise<T>, withinMs: number, failure: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(failure)), withinMs).unref();
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const DEFAULTS: Required<SpeechServerOptions> = {
  sse: 'openai',
  words: (voicedMs) => `utterance of ${Math.round(voicedMs / 100) * 100} ms`,
  firstByteDelayMs: 0,
  chunkDelayMs: 0,
  ttsRateHz: 24000,
  msPerChar: 40,
  voices: 'kokoro',
  models: [{ id: 'whisper-small' }, { id: 'kokoro' }],
  onFirstByte: () => undefined,
};

/** Loud 10 ms frames, as ms: how much of an upload the test "spoke". */
export function voicedMs(pcm: Int16Array, rateHz: number): number {
  const frame = Math.round(rateHz / 100);
  let loud = 0;
  for (let at = 0; at + frame <= pcm.length; at += frame) if (rms(pcm.subarray(at, at + frame)) > 500) loud++;
  return loud * 10;
}

export async function startScriptedSpeechServer(initial: SpeechServerOptions = {}): Promise<ScriptedSpeechServer> {
  let opts = { ...DEFAULTS, ...initial };
  const requests: ServedRequest[] = [];
  const faults: Array<{ path: string; fault: Fault }> = [];
  const abortWaiters: Array<{ path: string; resolve: (r: ServedRequest) => void }> = [];
  const requestWaiters: Array<{ path: string; resolve: (r: ServedRequest) => void }> = [];
  const wake = (waiters: typeof abortWaiters, served: ServedRequest) => {
    for (const waiter of waiters.filter((w) => w.path === served.path)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(served);
    }
  };

  const server = createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!;
    const body = await readBody(req);
    if (req.method === 'GET' && path === '/v1/models') return json(res, 200, { object: 'list', data: opts.models.map((m) => ({ object: 'model', owned_by: 'scripted', ...m })) });
    if (req.method === 'GET' && path === '/v1/audio/voices') return voices(res);
    if (req.method !== 'POST' || (path !== '/v1/audio/transcriptions' && path !== '/v1/audio/speech')) return json(res, 404, { detail: 'Not Found' });
    const served: ServedRequest = { path, fields: {}, headers: req.headers, finished: false, aborted: false };
    requests.push(served);
    res.on('close', () => {
      if (served.finished) return;
      served.aborted = true;
      wake(abortWaiters, served);
    });
    const at = faults.findIndex((f) => f.path === path);
    const fault = at >= 0 ? faults.splice(at, 1)[0]!.fault : null;
    if (path === '/v1/audio/transcriptions') await transcribe(req, body, res, served, fault);
    else await speak(body, res, served, fault);
  }

  async function transcribe(req: IncomingMessage, body: Buffer, res: ServerResponse, served: ServedRequest, fault: Fault | null): Promise<void> {
    // undici's multipart parser: the same FormData implementation as the client's, from the other side.
    const form = await new Request('http://scripted/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body }).formData();
    for (const [key, value] of form.entries()) if (typeof value === 'string') served.fields[key] = value;
    const file = form.get('file');
    if (!(file instanceof Blob)) return json(res, 422, { detail: 'file is required' });
    const { pcm, sampleRateHz } = readWav(new Uint8Array(await file.arrayBuffer()));
    served.upload = { voicedMs: voicedMs(pcm, sampleRateHz), durationMs: Math.round((pcm.length * 1000) / sampleRateHz), rateHz: sampleRateHz };
    wake(requestWaiters, served);
    const text = opts.words(served.upload.voicedMs);
    if (await delayed(res, opts.firstByteDelayMs)) return;
    if (typeof fault === 'object' && fault) return void res.writeHead(fault.status, { 'content-type': 'application/json' }).end(fault.body ?? '{"detail":"scripted failure"}');
    const sse = served.fields.stream === 'true' && opts.sse !== 'none';
    if (!sse && !fault) {
      served.firstByteAt = performance.now();
      opts.onFirstByte(served);
      served.finished = true;
      return json(res, 200, { text });
    }
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json' });
    served.firstByteAt = performance.now();
    opts.onFirstByte(served);
    if (!sse) return faulty(res, fault!, '{"te');
    const events = sseEvents(opts.sse as SseShape, text);
    for (const [i, event] of events.entries()) {
      if (i > 0 && (await delayed(res, opts.chunkDelayMs))) return;
      if (fault && i === 1) return faulty(res, fault, '');
      res.write(event);
    }
    finish(served, res);
  }

  async function speak(body: Buffer, res: ServerResponse, served: ServedRequest, fault: Fault | null): Promise<void> {
    const request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(request)) served.fields[key] = String(value);
    wake(requestWaiters, served);
    if (await delayed(res, opts.firstByteDelayMs)) return;
    if (typeof fault === 'object' && fault) return void res.writeHead(fault.status, { 'content-type': 'application/json' }).end(fault.body ?? '{"detail":"scripted failure"}');
    const text = typeof request.input === 'string' ? request.input : '';
    const pcm = tone(Math.max(1, text.length) * opts.msPerChar, opts.ttsRateHz);
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    res.writeHead(200, { 'content-type': 'audio/pcm' });
    served.firstByteAt = performance.now();
    opts.onFirstByte(served);
    // 100 ms chunks cut one byte off the sample grid, as a real body may be split anywhere.
    const chunkBytes = Math.round(opts.ttsRateHz / 10) * 2 + 1;
    for (let at = 0, i = 0; at < bytes.length; at += chunkBytes, i++) {
      if (i > 0 && (await delayed(res, opts.chunkDelayMs))) return;
      if (fault && i === 2) return faulty(res, fault, '');
      res.write(bytes.subarray(at, at + chunkBytes));
    }
    finish(served, res);
  }

  function voices(res: ServerResponse): void {
    if (opts.voices === 'none') return json(res, 404, { detail: 'Not Found' });
    if (opts.voices === 'kokoro') return json(res, 200, { voices: ['af_heart', 'af_bella', 'bm_george', 'jf_alpha'].map((v) => ({ id: v, name: v })) });
    json(res, 200, { object: 'list', voices: [{ id: 'af_heart', name: 'af_heart', language: 'en-us', gender: 'female' }, { id: 'ff_siwis', name: 'ff_siwis', language: 'fr-fr', gender: 'female' }] });
  }

  /** Waits; true if the client left meanwhile. */
  async function delayed(res: ServerResponse, ms: number): Promise<boolean> {
    if (ms > 0) await sleep(ms);
    return res.destroyed || res.writableEnded || res.closed;
  }

  /** A stall keeps the connection open without a byte more; a drop cuts it mid-body. */
  function faulty(res: ServerResponse, fault: Fault, partial: string): void {
    if (partial) res.write(partial);
    if (fault === 'drop') res.socket?.destroy();
  }

  function finish(served: ServedRequest, res: ServerResponse): void {
    served.finished = true;
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    failNext: (path, fault, count = 1) => {
      for (let i = 0; i < count; i++) faults.push({ path, fault });
    },
    configure: (changes) => {
      opts = { ...opts, ...changes };
    },
    nextAbort: (path, withinMs = ABORT_WAIT_MS) => bounded(new Promise((resolve) => abortWaiters.push({ path, resolve })), withinMs, `no request to ${path} was aborted by the gateway within ${withinMs} ms`),
    nextRequest: (path) => new Promise((resolve) => requestWaiters.push({ path, resolve })),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // stalled answers would keep close() waiting
      }),
  };
}

/** The events of one streamed transcript, as each server writes them. */
export function sseEvents(shape: SseShape, text: string): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  const data = (value: unknown) => `data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n`;
  switch (shape) {
    case 'openai':
      return [...words.map((w) => data({ type: 'transcript.text.delta', delta: w })), data({ type: 'transcript.text.done', text, usage: { type: 'tokens', input_tokens: 10, output_tokens: words.length } })];
    case 'speaches-main': // its done event's text is empty: the segments were used up by the deltas
      return [...words.map((w) => data({ type: 'transcript.text.delta', delta: ` ${w.trim()}`, logprobs: null })), data({ type: 'transcript.text.done', text: '', logprobs: null })];
    case 'speaches': // 0.8: one {"text"} per segment, and the stream just ends
      return words.map((w) => data({ text: ` ${w.trim()}` }));
    case 'vllm': {
      const chunk = (delta: string, finish: string | null) => ({ id: 'trsc-scripted', object: 'transcription.chunk', created: 1, model: 'whisper-small', choices: [{ delta: { content: delta }, ...(finish && { finish_reason: finish, stop_reason: null }) }] });
      return [...words.map((w, i) => data(chunk(w, i === words.length - 1 ? 'stop' : null))), data('[DONE]')];
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function tone(ms: number, rateHz: number): Int16Array {
  const out = new Int16Array(Math.round((rateHz * ms) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / rateHz));
  return out;
}
