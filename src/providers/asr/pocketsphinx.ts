/**
 * Offline English ASR: CMU pocketsphinx (Debian's libpocketsphinx3, 0.8+5prealpha) through koffi.
 *
 * Decoding runs in worker threads, never on the main event loop. Design: a small pool of workers
 * (default: one per core), each holding one decoder per active stream. A stream goes to the worker
 * with the fewest active streams; a new worker is started only while every existing one is busy and
 * the pool is not full. Decoders are kept after their stream ends and reused by the next stream on
 * that worker (ps_start_utt resets them), since loading the model takes ~0.3 s. pocketsphinx runs
 * at ~0.1 × real time on one core, so one worker can serve several live streams.
 *
 * Results: `partial` while pocketsphinx's VAD says "in speech" (only when the text changed), `final`
 * when it says the speech ended (its built-in endpointing, tuned by the vad* options) and on `end()`.
 * English only (en, en-US, …): pocketsphinx has no model for other languages here.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../local-worker/spawn.js';
import { AsyncQueue } from '../../lib/async-queue.js';
import { ProviderError, type AsrOptions, type AsrResult, type AsrStream, type SpeechRecognizer } from '../types.js';
import type { FromWorker, PocketsphinxWorkerData, ToWorker } from './pocketsphinx-protocol.js';

export const POCKETSPHINX_DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
/** pocketsphinx's VAD works in 10 ms frames. */
const FRAME_MS = 10;

export interface PocketsphinxOptions {
  /** Folder holding the Debian en-us model (default /usr/share/pocketsphinx/model/en-us). */
  modelDir?: string;
  /** Acoustic model folder (default `<modelDir>/en-us`). */
  hmm?: string;
  /** Language model (default `<modelDir>/en-us.lm.bin`). */
  lm?: string;
  /** Pronunciation dictionary (default `<modelDir>/cmudict-en-us.dict`). */
  dict?: string;
  /** Silence that ends an utterance, in ms (`-vad_postspeech`, 10 ms frames; default 500). */
  vadPostspeechMs?: number;
  /** Speech needed to start an utterance, in ms (`-vad_prespeech`; pocketsphinx's default 200). */
  vadPrespeechMs?: number;
  /** `-vad_threshold`: energy threshold of pocketsphinx's VAD (pocketsphinx's default 2.0). */
  vadThreshold?: number;
  /** Further raw pocketsphinx arguments, e.g. ['-beam', '1e-60']. */
  extraArgs?: string[];
  /** Worker threads at most (default os.availableParallelism()). */
  workers?: number;
  /** Idle decoders each worker keeps for reuse (default 4). */
  maxIdleDecodersPerWorker?: number;
}

interface Slot {
  worker: Worker;
  active: number;
  streams: Map<number, PocketsphinxStream>;
  warmups: Map<number, { resolve: () => void; reject: (e: Error) => void }>;
  dead: boolean;
}

export class PocketsphinxRecognizer implements SpeechRecognizer {
  readonly sampleRateHz = 16000;
  private readonly workerData: PocketsphinxWorkerData;
  private readonly poolSize: number;
  private readonly slots: Slot[] = [];
  private nextId = 1;

  /** True for English (en, en-US, en-GB, …), the only language the installed model covers. */
  static supportsLanguage(language: string): boolean {
    return /^en(-|_|$)/i.test(language.trim());
  }

  supportsLanguage(language: string): boolean {
    return PocketsphinxRecognizer.supportsLanguage(language);
  }

  /** Throws a ProviderError naming the alternatives when `language` is not English. */
  static checkLanguage(language: string): void {
    if (!PocketsphinxRecognizer.supportsLanguage(language)) {
      throw new ProviderError(
        'asr',
        `The pocketsphinx ASR engine recognizes English only (en, en-US); language "${language}" is not supported. ` +
          'Choose an ASR engine that supports it: NVIDIA Riva or a Riva speech NIM (ASR_PROVIDER=riva, RIVA_URI=host:port).',
      );
    }
  }

  constructor(opts: PocketsphinxOptions = {}) {
    const modelDir = opts.modelDir ?? POCKETSPHINX_DEFAULT_MODEL_DIR;
    const hmm = opts.hmm ?? path.join(modelDir, 'en-us');
    const lm = opts.lm ?? path.join(modelDir, 'en-us.lm.bin');
    const dict = opts.dict ?? path.join(modelDir, 'cmudict-en-us.dict');
    for (const [what, p] of [['acoustic model (hmm)', hmm], ['language model (lm)', lm], ['dictionary (dict)', dict]] as const) {
      if (!existsSync(p)) {
        throw new ProviderError('asr', `pocketsphinx ${what} not found at ${p}. On Debian/Ubuntu: apt-get install pocketsphinx-en-us libpocketsphinx3.`);
      }
    }
    const args = ['-hmm', hmm, '-lm', lm, '-dict', dict];
    args.push('-vad_postspeech', String(msToFrames(opts.vadPostspeechMs ?? 500, 'vadPostspeechMs')));
    if (opts.vadPrespeechMs !== undefined) args.push('-vad_prespeech', String(msToFrames(opts.vadPrespeechMs, 'vadPrespeechMs')));
    if (opts.vadThreshold !== undefined) {
      if (!(opts.vadThreshold > 0)) throw new ProviderError('asr', `vadThreshold must be > 0, got ${opts.vadThreshold}.`);
      args.push('-vad_threshold', String(opts.vadThreshold));
    }
    args.push(...(opts.extraArgs ?? []));
    this.workerData = { args, maxIdleDecoders: Math.max(0, opts.maxIdleDecodersPerWorker ?? 4) };
    this.poolSize = Math.max(1, Math.floor(opts.workers ?? os.availableParallelism()));
  }

  /** Starts a worker and loads one decoder, so the first stream starts at once and a broken install fails early. */
  async warmUp(): Promise<void> {
    const slot = this.slots.find((s) => !s.dead) ?? this.spawn();
    const id = this.nextId++;
    slot.worker.ref();
    try {
      await new Promise<void>((resolve, reject) => {
        slot.warmups.set(id, { resolve, reject });
        post(slot, { type: 'warm', id });
      });
    } finally {
      this.updateRef(slot);
    }
  }

  stream(opts: AsrOptions, signal: AbortSignal): AsrStream {
    const id = this.nextId++;
    if (!PocketsphinxRecognizer.supportsLanguage(opts.language)) {
      try {
        PocketsphinxRecognizer.checkLanguage(opts.language);
      } catch (e) {
        return PocketsphinxStream.failed(id, e as ProviderError);
      }
    }
    if (opts.sampleRateHz !== this.sampleRateHz) {
      return PocketsphinxStream.failed(
        id,
        new ProviderError('asr', `pocketsphinx needs ${this.sampleRateHz} Hz audio, got ${opts.sampleRateHz} Hz.`),
      );
    }
    const slot = this.pickSlot();
    const stream = new PocketsphinxStream(id, slot, signal, () => this.detach(slot, id));
    if (stream.isClosed) return stream; // signal already aborted
    slot.streams.set(id, stream);
    slot.active++;
    this.updateRef(slot);
    post(slot, { type: 'open', id });
    return stream;
  }

  /** Stops all workers; open streams end with an error. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (s) => {
        s.dead = true;
        this.failSlot(s, new ProviderError('asr', 'pocketsphinx recognizer closed.'));
        await s.worker.terminate();
      }),
    );
  }

  private pickSlot(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!s.dead && (!best || s.active < best.active)) best = s;
    if (!best || (best.active > 0 && this.slots.length < this.poolSize)) return this.spawn();
    return best;
  }

  private spawn(): Slot {
    const worker = spawnSiblingWorker(import.meta.url, 'pocketsphinx-worker', {
      workerData: this.workerData,
      name: 'pocketsphinx',
    });
    const slot: Slot = { worker, active: 0, streams: new Map(), warmups: new Map(), dead: false };
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (e) => {
      this.failSlot(slot, new ProviderError('asr', `pocketsphinx worker failed: ${e.message}`));
    });
    worker.on('exit', (code) => {
      this.failSlot(slot, new ProviderError('asr', `pocketsphinx worker exited (code ${code}).`));
    });
    this.slots.push(slot);
    return slot;
  }

  private failSlot(slot: Slot, error: ProviderError): void {
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    for (const s of slot.streams.values()) s.fail(error);
    slot.streams.clear();
    slot.active = 0;
    for (const w of slot.warmups.values()) w.reject(error);
    slot.warmups.clear();
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'warm' || (msg.type === 'error' && slot.warmups.has(msg.id))) {
      const w = slot.warmups.get(msg.id);
      slot.warmups.delete(msg.id);
      if (msg.type === 'warm') w?.resolve();
      else w?.reject(new ProviderError('asr', `pocketsphinx: ${msg.message}`));
      return;
    }
    const stream = slot.streams.get(msg.id);
    if (!stream) return; // aborted already
    switch (msg.type) {
      case 'result':
        stream.deliver({ kind: msg.kind, text: msg.text });
        break;
      case 'closed':
        stream.finish();
        break;
      case 'error':
        stream.fail(new ProviderError('asr', `pocketsphinx: ${msg.message}`));
        break;
    }
  }

  private detach(slot: Slot, id: number): void {
    if (!slot.streams.delete(id)) return;
    slot.active--;
    this.updateRef(slot);
  }

  /** A worker keeps the process alive only while it has work. */
  private updateRef(slot: Slot): void {
    if (slot.dead) return;
    if (slot.active > 0 || slot.warmups.size > 0) slot.worker.ref();
    else slot.worker.unref();
  }
}

function post(slot: Slot, msg: ToWorker, transfer?: ArrayBuffer[]): void {
  if (!slot.dead) slot.worker.postMessage(msg, transfer);
}

function msToFrames(ms: number, name: string): number {
  if (!Number.isFinite(ms) || ms < 0) throw new ProviderError('asr', `${name} must be a number of milliseconds >= 0, got ${ms}.`);
  return Math.max(1, Math.round(ms / FRAME_MS));
}

class PocketsphinxStream implements AsrStream {
  private readonly queue: AsyncQueue<AsrResult>;
  private ending = false;
  private closed = false;
  private readonly onAbort = (): void => this.abort();

  constructor(
    private readonly id: number,
    private readonly slot: Slot | undefined,
    private readonly signal: AbortSignal | undefined,
    private readonly onDetach: () => void,
  ) {
    this.queue = new AsyncQueue<AsrResult>({ onReturn: () => this.abort() });
    if (signal?.aborted) {
      this.closed = true;
      this.queue.end();
    } else {
      signal?.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  static failed(id: number, error: ProviderError): PocketsphinxStream {
    const s = new PocketsphinxStream(id, undefined, undefined, () => undefined);
    s.fail(error);
    return s;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(pcm: Int16Array): void {
    if (this.closed || this.ending || !this.slot || pcm.length === 0) return;
    // Copy, then transfer the copy: the caller keeps its own array intact.
    const copy = pcm.slice();
    post(this.slot, { type: 'audio', id: this.id, pcm: copy }, [copy.buffer]);
  }

  end(): void {
    if (this.closed || this.ending || !this.slot) return;
    this.ending = true;
    post(this.slot, { type: 'close', id: this.id, flush: true });
  }

  deliver(result: AsrResult): void {
    if (!this.closed) this.queue.push(result);
  }

  /** The worker flushed after end(): the iterator ends after the results already queued. */
  finish(): void {
    if (this.cleanup()) this.queue.end();
  }

  fail(error: ProviderError): void {
    if (this.cleanup()) this.queue.fail(error);
  }

  /** Abort or early return: the iterator ends at once and the decoder goes back to the pool. */
  private abort(): void {
    if (!this.cleanup()) return;
    this.queue.endNow();
    if (this.slot) post(this.slot, { type: 'close', id: this.id, flush: false });
  }

  private cleanup(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.onDetach();
    return true;
  }

  [Symbol.asyncIterator](): AsyncIterator<AsrResult> {
    return this.queue;
  }
}
