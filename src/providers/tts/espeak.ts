/**
 * Offline streaming TTS: espeak-ng (Debian's libespeak-ng1) through koffi, in a worker thread.
 *
 * Why one worker for the whole process: libespeak-ng keeps its state in globals and is not
 * thread-safe, and a library dlopened from several worker threads of one process is the same copy
 * with the same globals; so a pool of threads would corrupt it. Child processes would give real
 * parallelism, but espeak synthesizes at ~0.001–0.005 × real time (34 s of speech in ~30 ms), so one
 * worker with a FIFO queue serves many sessions and costs far less. The worker is shared by every
 * EspeakSynthesizer instance for the same reason.
 *
 * Audio comes back in ~100 ms chunks as espeak produces them, resampled from espeak's 22050 Hz to
 * the requested rate with StreamResampler inside the worker (off the event loop). Aborting the signal (barge-in) ends the iterator at
 * once and makes the worker's synth callback return 1, which stops espeak mid-utterance.
 */
import type { Worker } from 'node:worker_threads';
import { AsyncQueue } from '../../lib/async-queue.js';
import { spawnSiblingWorker } from '../local-worker/spawn.js';
import { ProviderError, type SpeechSynthesizer, type TtsChunk, type TtsOptions, type WordTiming } from '../types.js';
import type { EspeakVoiceInfo, EspeakVoiceSpec, FromWorker, ToWorker } from './espeak-protocol.js';

export type { EspeakVoiceInfo } from './espeak-protocol.js';

export interface EspeakOptions {
  /** Speaking rate in words per minute (espeak's default 175). */
  rateWpm?: number;
}

/** A `voice` of '' or 'default' means: pick the voice from the language. */
export function espeakVoiceSpec(voice: string, language: string): EspeakVoiceSpec {
  const v = voice.trim();
  if (v !== '' && v.toLowerCase() !== 'default') return { name: v };
  return { language };
}

export class EspeakSynthesizer implements SpeechSynthesizer {
  private readonly rateWpm: number | undefined;

  constructor(opts: EspeakOptions = {}) {
    if (opts.rateWpm !== undefined && !(opts.rateWpm >= 80 && opts.rateWpm <= 500)) {
      throw new ProviderError('tts', `espeak rateWpm must be between 80 and 500, got ${opts.rateWpm}.`);
    }
    this.rateWpm = opts.rateWpm;
  }

  /** Starts the worker and waits until libespeak-ng is loaded, so a broken install fails early. */
  async warmUp(): Promise<void> {
    await EspeakEngine.get().ready;
  }

  /** The installed voices, with their language codes (espeak_ListVoices). */
  listVoices(): Promise<EspeakVoiceInfo[]> {
    return EspeakEngine.get().listVoices();
  }

  async *stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    const outRate = opts.sampleRateHz;
    if (!Number.isInteger(outRate) || outRate < 8000 || outRate > 192000) {
      throw new ProviderError('tts', `espeak: unsupported output sample rate ${outRate} Hz.`);
    }
    if (signal.aborted || text.trim() === '') return;
    const engine = EspeakEngine.get();
    await engine.ready;
    if (signal.aborted) return;
    const job = engine.synth(text, espeakVoiceSpec(opts.voice, opts.language), this.rateWpm, outRate);
    const onAbort = (): void => job.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal.aborted) return;
      for await (const { pcm, words } of job.chunks) {
        if (signal.aborted) return;
        yield { pcm, sampleRateHz: outRate, ...(words ? { words } : {}) };
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      job.abort(); // no-op when it finished; stops espeak when the consumer quit early
    }
  }
}

type JobChunk = { pcm: Int16Array; words?: WordTiming[] };

interface Job {
  chunks: AsyncQueue<JobChunk>;
  abort(): void;
}

/** The process-wide espeak worker (see the file comment for why there is only one). */
class EspeakEngine {
  private static instance: EspeakEngine | undefined;

  static get(): EspeakEngine {
    if (!EspeakEngine.instance) EspeakEngine.instance = new EspeakEngine();
    return EspeakEngine.instance;
  }

  readonly ready: Promise<number>;
  private readonly worker: Worker;
  private readonly jobs = new Map<number, AsyncQueue<JobChunk>>();
  private readonly voiceRequests = new Map<number, { resolve: (v: EspeakVoiceInfo[]) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead = false;

  private constructor() {
    this.worker = spawnSiblingWorker(import.meta.url, 'espeak-worker', { name: 'espeak' });
    this.ready = new Promise<number>((resolve, reject) => {
      this.worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') resolve(msg.sampleRateHz);
        else this.onMessage(msg);
      });
      this.worker.on('error', (e) => {
        const err = new ProviderError('tts', `espeak-ng worker failed: ${e.message}. On Debian/Ubuntu: apt-get install libespeak-ng1 espeak-ng-data.`);
        reject(err);
        this.die(err);
      });
      this.worker.on('exit', (code) => {
        const err = new ProviderError('tts', `espeak-ng worker exited (code ${code}).`);
        reject(err);
        this.die(err);
      });
    });
    // Stays referenced until loaded (someone is awaiting it), then only while it has work.
    this.ready.then(
      () => this.updateRef(),
      () => undefined, // reported to whoever awaits it
    );
  }

  synth(text: string, voice: EspeakVoiceSpec, rateWpm: number | undefined, sampleRateHz: number): Job {
    const id = this.nextId++;
    const abortFlag = new Int32Array(new SharedArrayBuffer(4));
    const finish = (): void => {
      Atomics.store(abortFlag, 0, 1);
      if (this.jobs.delete(id)) this.updateRef();
    };
    const chunks = new AsyncQueue<JobChunk>({ onReturn: finish });
    const job: Job = {
      chunks,
      abort: () => {
        finish();
        chunks.endNow();
      },
    };
    if (this.dead) {
      chunks.fail(new ProviderError('tts', 'espeak-ng worker is not running.'));
      return job;
    }
    this.jobs.set(id, chunks);
    this.updateRef();
    this.post({ type: 'synth', id, text, voice, rateWpm, sampleRateHz, abort: abortFlag });
    return job;
  }

  listVoices(): Promise<EspeakVoiceInfo[]> {
    if (this.dead) return Promise.reject(new ProviderError('tts', 'espeak-ng worker is not running.'));
    const id = this.nextId++;
    const p = new Promise<EspeakVoiceInfo[]>((resolve, reject) => this.voiceRequests.set(id, { resolve, reject }));
    this.updateRef();
    this.post({ type: 'voices', id });
    return p;
  }

  private post(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  private onMessage(msg: Exclude<FromWorker, { type: 'ready' }>): void {
    if (msg.type === 'voices' || (msg.type === 'error' && this.voiceRequests.has(msg.id))) {
      const req = this.voiceRequests.get(msg.id);
      this.voiceRequests.delete(msg.id);
      this.updateRef();
      if (msg.type === 'voices') req?.resolve(msg.voices);
      else req?.reject(new ProviderError('tts', msg.message));
      return;
    }
    const q = this.jobs.get(msg.id);
    if (!q) return; // aborted
    switch (msg.type) {
      case 'chunk':
        q.push(msg.words ? { pcm: msg.pcm, words: msg.words } : { pcm: msg.pcm });
        break;
      case 'done':
        this.jobs.delete(msg.id);
        this.updateRef();
        if (msg.words) q.push({ pcm: new Int16Array(0), words: msg.words }); // words after the last audio
        q.end();
        break;
      case 'error':
        this.jobs.delete(msg.id);
        this.updateRef();
        q.fail(new ProviderError('tts', msg.message));
        break;
    }
  }

  private die(err: ProviderError): void {
    if (this.dead) return;
    this.dead = true;
    if (EspeakEngine.instance === this) EspeakEngine.instance = undefined; // the next use starts a new worker
    for (const q of this.jobs.values()) q.fail(err);
    this.jobs.clear();
    for (const r of this.voiceRequests.values()) r.reject(err);
    this.voiceRequests.clear();
  }

  /** The worker keeps the process alive only while it has work (or is starting). */
  private updateRef(): void {
    if (this.dead) return;
    if (this.jobs.size > 0 || this.voiceRequests.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}
