/**
 * Silero VAD through onnxruntime-node, with the ONNX files that ship in @ricky0123/vad-web (ISC).
 *
 * One InferenceSession (single-threaded: intra/inter op threads 1) is shared by every stream;
 * onnxruntime allows concurrent `run` calls on one session, and onnxruntime-node runs them off the JS
 * thread. Each stream keeps its own recurrent state (legacy/v4: h and c [2,1,64]; v5: state [2,1,128]).
 * Frames are 512 samples at 16 kHz. v5 is fed the bare 512-sample frame without the 64-sample
 * context of the reference implementation: measured here, that gives the same segments as the legacy
 * model while the context variant split words more often.
 * Both models also have 8 kHz weights (the `sr` input picks them): 256-sample frames, the same
 * 32 ms, so 8 kHz phone audio needs no resampler. There v5 needs its context (the last 32
 * samples of the previous frame before each frame): without it, it heard barely a third of a
 * spoken sentence (test/local-engines/silero-vad.test.ts holds both rates to the same segments).
 * Thresholds and smoothing are the core's job, not this file's.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { ProviderError, type VadStream, type VoiceActivityDetector } from '../types.js';

export type SileroModelVersion = 'legacy' | 'v5';

export interface SileroVadOptions {
  modelVersion: SileroModelVersion;
  /** Override the model file (defaults to the one in @ricky0123/vad-web/dist/). */
  modelPath?: string;
}

const SAMPLE_RATE_HZ = 16000;
const FRAME_SAMPLES = 512;
const NARROWBAND_RATE_HZ = 8000;
const NARROWBAND_FRAME_SAMPLES = 256;
/** v5 at 8 kHz: samples of the previous frame put before each frame, as the reference implementation does. */
const NARROWBAND_V5_CONTEXT_SAMPLES = 32;

export function sileroModelPath(version: SileroModelVersion): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@ricky0123/vad-web/package.json');
  const file = version === 'legacy' ? 'silero_vad_legacy.onnx' : 'silero_vad_v5.onnx';
  return path.join(path.dirname(pkg), 'dist', file);
}

export class SileroVad implements VoiceActivityDetector {
  readonly sampleRateHz = SAMPLE_RATE_HZ;
  readonly frameSamples = FRAME_SAMPLES;
  /** Shared by all streams of a rate: the sample-rate tensors never change. */
  private readonly srTensors = new Map<number, ort.Tensor>();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly modelVersion: SileroModelVersion,
  ) {}

  static async load(opts: SileroVadOptions): Promise<SileroVad> {
    if (opts.modelVersion !== 'legacy' && opts.modelVersion !== 'v5') {
      throw new ProviderError('vad', `Unknown Silero model version "${String(opts.modelVersion)}": use "legacy" or "v5".`);
    }
    let modelPath: string;
    try {
      modelPath = opts.modelPath ?? sileroModelPath(opts.modelVersion);
    } catch (e) {
      throw new ProviderError('vad', `Cannot find @ricky0123/vad-web (it holds the Silero model): ${String(e)}. Run npm install.`);
    }
    if (!existsSync(modelPath)) {
      throw new ProviderError('vad', `Silero VAD model not found at ${modelPath}.`);
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      return new SileroVad(session, opts.modelVersion);
    } catch (e) {
      throw new ProviderError('vad', `Cannot load Silero VAD model ${modelPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  frameSamplesAt(rateHz: number): number | undefined {
    return rateHz === SAMPLE_RATE_HZ ? FRAME_SAMPLES : rateHz === NARROWBAND_RATE_HZ ? NARROWBAND_FRAME_SAMPLES : undefined;
  }

  createStream(rateHz = SAMPLE_RATE_HZ): VadStream {
    const frameSamples = this.frameSamplesAt(rateHz);
    if (frameSamples === undefined) throw new ProviderError('vad', `Silero VAD takes ${SAMPLE_RATE_HZ} or ${NARROWBAND_RATE_HZ} Hz audio, not ${rateHz} Hz.`);
    let sr = this.srTensors.get(rateHz);
    if (!sr) this.srTensors.set(rateHz, (sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(rateHz)]), [])));
    const contextSamples = this.modelVersion === 'v5' && rateHz === NARROWBAND_RATE_HZ ? NARROWBAND_V5_CONTEXT_SAMPLES : 0;
    return new SileroStream(this.session, this.modelVersion, sr, frameSamples, contextSamples);
  }

  /** Releases the shared session; streams must not be used afterwards. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

class SileroStream implements VadStream {
  /** legacy: [h, c]; v5: [state]. Replaced by the model's outputs after every frame. */
  private state: ort.Tensor[];
  private closed = false;
  /** Frames are run one after another so the recurrent state stays in order. */
  private chain: Promise<unknown> = Promise.resolve();
  /** The end of the previous frame, when the model wants context (zeros before the first frame). */
  private readonly context: Float32Array;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly version: SileroModelVersion,
    private readonly sr: ort.Tensor,
    private readonly frameSamples: number,
    contextSamples: number,
  ) {
    this.state = SileroStream.zeroState(version);
    this.context = new Float32Array(contextSamples);
  }

  private static zeroState(version: SileroModelVersion): ort.Tensor[] {
    if (version === 'legacy') {
      return [new ort.Tensor('float32', new Float32Array(2 * 64), [2, 1, 64]), new ort.Tensor('float32', new Float32Array(2 * 64), [2, 1, 64])];
    }
    return [new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128])];
  }

  speechProbability(frame: Int16Array): Promise<number> {
    if (this.closed) return Promise.reject(new ProviderError('vad', 'VAD stream is closed.'));
    if (frame.length !== this.frameSamples) {
      return Promise.reject(new ProviderError('vad', `Silero VAD wants frames of ${this.frameSamples} samples at this rate, got ${frame.length}.`));
    }
    const contextSamples = this.context.length;
    const input = new Float32Array(contextSamples + this.frameSamples);
    input.set(this.context);
    for (let i = 0; i < this.frameSamples; i++) input[contextSamples + i] = (frame[i] as number) / 32768;
    this.context.set(input.subarray(input.length - contextSamples));
    const run = this.chain.then(() => this.runFrame(input));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async runFrame(input: Float32Array): Promise<number> {
    if (this.closed) throw new ProviderError('vad', 'VAD stream is closed.');
    const x = new ort.Tensor('float32', input, [1, input.length]);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      if (this.version === 'legacy') {
        const [h, c] = this.state as [ort.Tensor, ort.Tensor];
        out = await this.session.run({ input: x, sr: this.sr, h, c });
        this.state = [out.hn as ort.Tensor, out.cn as ort.Tensor];
      } else {
        out = await this.session.run({ input: x, state: this.state[0] as ort.Tensor, sr: this.sr });
        this.state = [out.stateN as ort.Tensor];
      }
    } catch (e) {
      throw new ProviderError('vad', `Silero VAD inference failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const p = (out.output as ort.Tensor).data[0];
    return typeof p === 'number' ? p : Number(p);
  }

  close(): void {
    this.closed = true;
  }
}
