/**
 * Pipecat's Smart Turn v3 (BSD-2-Clause; a Whisper-Tiny encoder and a classifier, ~8 M parameters)
 * through onnxruntime-node: the last 8 s of the user's turn in, the probability that the turn is
 * complete out. One model for the whole process, in one worker thread (smart-turn-worker.ts says
 * why); sessions keep their own audio and send it with each question. Questions are answered in
 * arrival order; a question whose signal is aborted gets no answer (its run still finishes).
 */
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../local-worker/spawn.js';
import { ProviderError, type TurnEndModel, type TurnEndPrediction } from '../types.js';
import type { FromWorker, ToWorker } from './smart-turn-protocol.js';

export interface SmartTurnOptions {
  /** The ONNX file (see model-file.ts for how it is found). */
  modelPath: string;
  /** onnxruntime intra-op threads of the model run (Pipecat's default: 1). */
  threads?: number;
}

interface Pending {
  resolve: (p: TurnEndPrediction) => void;
  reject: (e: Error) => void;
}

export class SmartTurnModel implements TurnEndModel {
  readonly sampleRateHz = 16000;
  readonly maxAudioMs = 8000;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: ProviderError | null = null;

  private constructor(
    private readonly worker: Worker,
    /** The name of the model's output the probability is read from. */
    readonly outputName: string,
  ) {
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (e) => this.die(new ProviderError('turn', `the Smart Turn worker failed: ${e.message}`)));
    worker.on('exit', (code) => this.die(new ProviderError('turn', `the Smart Turn worker exited (code ${code})`)));
    worker.unref();
  }

  /** Starts the worker and loads the model; a file that is not a Smart Turn v3 model is refused here. */
  static async load(opts: SmartTurnOptions): Promise<SmartTurnModel> {
    const threads = opts.threads ?? 1;
    const worker = spawnSiblingWorker(import.meta.url, 'smart-turn-worker', { name: 'smart-turn' });
    const loaded = await new Promise<Extract<FromWorker, { type: 'loaded' }>>((resolve, reject) => {
      const fail = (message: string) => reject(new ProviderError('turn', message));
      worker.once('message', (msg: FromWorker) => {
        if (msg.type === 'loaded') resolve(msg);
        else fail(msg.type === 'load_failed' ? msg.message : `unexpected first message "${msg.type}" from the Smart Turn worker`);
      });
      worker.once('error', (e) => fail(`the Smart Turn worker failed to start: ${e.message}`));
      worker.once('exit', (code) => fail(`the Smart Turn worker exited while loading (code ${code})`));
      const msg: ToWorker = { type: 'load', modelPath: opts.modelPath, threads };
      worker.postMessage(msg);
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    });
    for (const event of ['message', 'error', 'exit']) worker.removeAllListeners(event); // not all: the Worker has internal ones
    return new SmartTurnModel(worker, loaded.outputName);
  }

  predict(pcm: Int16Array, signal: AbortSignal): Promise<TurnEndPrediction> {
    if (this.failure) return Promise.reject(this.failure);
    if (signal.aborted) return Promise.reject(abortError());
    const id = this.nextId++;
    const maxSamples = (this.sampleRateHz * this.maxAudioMs) / 1000;
    const own = pcm.slice(Math.max(0, pcm.length - maxSamples)); // a copy of its own, transferred
    return new Promise<TurnEndPrediction>((resolve, reject) => {
      const onAbort = () => {
        this.settle(id);
        reject(abortError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (p) => {
          signal.removeEventListener('abort', onAbort);
          resolve(p);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.worker.ref(); // the process waits for an answer someone awaits
      const msg: ToWorker = { type: 'predict', id, pcm: own };
      this.worker.postMessage(msg, [own.buffer]);
    });
  }

  /** Stops the worker; questions still waiting are refused. */
  async release(): Promise<void> {
    this.die(new ProviderError('turn', 'the Smart Turn model was released'));
    await this.worker.terminate();
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type !== 'result' && msg.type !== 'error') return;
    const waiting = this.settle(msg.id);
    if (!waiting) return; // aborted meanwhile
    if (msg.type === 'error') waiting.reject(new ProviderError('turn', `Smart Turn failed: ${msg.message}`));
    else waiting.resolve({ probability: msg.probability, computeMs: msg.featuresMs + msg.inferenceMs });
  }

  private settle(id: number): Pending | undefined {
    const waiting = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return waiting;
  }

  private die(error: ProviderError): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}

function abortError(): Error {
  return new DOMException('the end-of-turn question was withdrawn', 'AbortError');
}
