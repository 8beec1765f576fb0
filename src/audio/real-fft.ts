/**
 * Power spectra of real frames, through KISS FFT (mixed radix, so any even size: Whisper's 400
 * points are not a power of two) compiled to WASM (@echogarden/kissfft-wasm). One WASM instance
 * per thread, made on first use; each RealFft keeps its plan and buffers in it until disposed.
 */
import createKissFft, { type KissFftModule } from '@echogarden/kissfft-wasm';

let instance: Promise<KissFftModule> | undefined;

const FLOAT_BYTES = 4;

export class RealFft {
  private constructor(
    private readonly kiss: KissFftModule,
    readonly size: number,
    private readonly plan: number,
    private readonly input: number,
    private readonly output: number,
  ) {}

  /** A forward real FFT of `size` points (even, at least 2). */
  static async create(size: number): Promise<RealFft> {
    if (!Number.isInteger(size) || size < 2 || size % 2 !== 0) throw new RangeError(`a real FFT needs an even size of at least 2, got ${size}`);
    instance ??= createKissFft();
    const kiss = await instance;
    const plan = kiss._kiss_fftr_alloc(size, 0, 0, 0);
    const input = kiss._malloc(size * FLOAT_BYTES);
    const output = kiss._malloc((size / 2 + 1) * 2 * FLOAT_BYTES);
    if (!plan || !input || !output) throw new Error(`KISS FFT could not allocate a ${size}-point plan`);
    return new RealFft(kiss, size, plan, input, output);
  }

  /** Number of frequency bins of a spectrum: size / 2 + 1 (0 Hz to half the sample rate). */
  get bins(): number {
    return this.size / 2 + 1;
  }

  /** |X[k]|² of `frame` (exactly `size` samples) into `out` (at least `bins` values). */
  powerSpectrum(frame: Float32Array, out: Float32Array | Float64Array): void {
    if (frame.length !== this.size) throw new RangeError(`frame has ${frame.length} samples, the FFT ${this.size}`);
    this.kiss.HEAPF32.set(frame, this.input / FLOAT_BYTES);
    this.kiss._kiss_fftr(this.plan, this.input, this.output);
    const heap = this.kiss.HEAPF32;
    const at = this.output / FLOAT_BYTES;
    for (let k = 0; k < this.bins; k++) {
      const re = heap[at + 2 * k]!;
      const im = heap[at + 2 * k + 1]!;
      out[k] = re * re + im * im;
    }
  }

  dispose(): void {
    this.kiss._free(this.plan);
    this.kiss._free(this.input);
    this.kiss._free(this.output);
  }
}
