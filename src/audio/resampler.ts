/**
 * Sample-rate conversion for mono int16 streams, on libsamplerate (band-limited sinc
 * interpolation, compiled to WASM by @alexanderolsen/libsamplerate-js).
 *
 * Library facts this file relies on (read from its source, checked by the tests):
 * - each `create()` loads its own module instance with its own SRC_STATE, so resamplers of
 *   different sessions do not share filter state;
 * - `full()` calls src_process with end_of_input = 0 on that state: the filter history is kept
 *   between calls (right for streaming), and a few ms of output are held back for the filter's
 *   look-ahead until more input arrives;
 * - `simple()` calls src_simple: a fresh state per call, which also sets end_of_input = 1 on the
 *   module's shared SRC_DATA. Calling it would make later `full()` calls treat every chunk as the
 *   last one, so this file never calls `simple()`; whole buffers go through the same streaming path;
 * - the library's WASM I/O buffers hold about 1e6 floats, so input is fed in bounded slices;
 * - it is built with wasm2js: its "WASM" is JavaScript that emulates WebAssembly, so there is no
 *   compiled WebAssembly.Module to share between instances. Each `create()` instantiates the whole
 *   module again, with its own emulated memory: about 1.5 MB of resident memory and 20 to 90 ms of
 *   CPU (measured on this project's 2-core machine), which made every connecting session pay for
 *   two. So instances are made only when audio needs one (the session's side) and reused: a
 *   resampler that is destroyed gives its instance back, reset, to a bounded pool per rate pair
 *   (`POOL_*`), and the next resampler of that pair takes it instead of instantiating the module.
 */
import LibSampleRate from '@alexanderolsen/libsamplerate-js';

/**
 * SRC_SINC_FASTEST still has a proper anti-aliasing filter (about 97 dB SNR, 80% bandwidth), far
 * beyond what speech ASR, VAD or TTS playback can hear, at a fraction of the CPU of
 * SRC_SINC_MEDIUM_QUALITY; every live session runs one or more of these per audio chunk.
 */
const CONVERTER = LibSampleRate.ConverterType.SRC_SINC_FASTEST;
/** libsamplerate-js accepts rates in this range only. */
const MAX_RATE_HZ = 192_000;
/** Room in the library's WASM buffers (its BUFFER_LEN is 1,008,000 floats), with margin. */
const WASM_BUFFER_FLOATS = 1_000_000;
/** flush() pushes silence in blocks of this length to drain the held-back samples. */
const FLUSH_BLOCK_MS = 20;
/** The sinc filter holds back far less than this; the cap only guards against a runaway loop. */
const FLUSH_MAX_BLOCKS = 50;
const INT16_FULL_SCALE = 32768;
/** Instances kept for reuse per rate pair, and in all: enough for the sessions that start at once. */
const POOL_MAX_PER_PAIR = 8;
const POOL_MAX_TOTAL = 32;

type Src = Awaited<ReturnType<typeof LibSampleRate.create>>;

/** Reset library instances, by `from:to` rate pair, waiting for the next resampler of that pair. */
const pool = new Map<string, Src[]>();
let pooled = 0;

function takePooled(key: string): Src | undefined {
  const src = pool.get(key)?.pop();
  if (src) pooled--;
  return src;
}

/** Keeps `src` for reuse if there is room, else frees it. */
function givePooled(key: string, src: Src): void {
  const free = pool.get(key) ?? [];
  if (free.length >= POOL_MAX_PER_PAIR || pooled >= POOL_MAX_TOTAL) return src.destroy();
  free.push(src);
  pool.set(key, free);
  pooled++;
}

/** Instances waiting in the pool (tests and benchmarks read it). */
export function pooledResamplers(): number {
  return pooled;
}

/** int16 to the library's float range [-1, 1). */
function floatFromPcm16(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! / INT16_FULL_SCALE;
  return out;
}

/** Float back to int16, rounded and clipped: a sinc filter overshoots near full-scale edges. */
function pcm16FromFloat(samples: Float32Array, length = samples.length): Int16Array {
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    const value = Math.round(samples[i]! * INT16_FULL_SCALE);
    out[i] = value > 32767 ? 32767 : value < -32768 ? -32768 : value;
  }
  return out;
}

function concat(parts: Int16Array[]): Int16Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Int16Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function checkRate(name: string, rateHz: number): void {
  if (!Number.isInteger(rateHz) || rateHz < 1 || rateHz > MAX_RATE_HZ) {
    throw new RangeError(`${name} must be an integer from 1 to ${MAX_RATE_HZ} Hz; got ${rateHz}`);
  }
}

/**
 * Streaming mono int16 resampler: feed chunks of any size with process(), call flush() at the end
 * of the stream. Concatenated outputs are the same (to a rounding step) whatever the chunking, and
 * process() + flush() over a whole stream yields round(inputSamples * toRateHz / fromRateHz)
 * samples. With equal rates, process() returns its input array as is.
 */
export class StreamResampler {
  /** Input and output totals of the current stream, to know how much flush() still owes. */
  private inputSamples = 0;
  private outputSamples = 0;
  private destroyed = false;

  private constructor(
    readonly fromRateHz: number,
    readonly toRateHz: number,
    /** null when the rates are equal: no WASM is loaded and process() passes samples through. */
    private readonly src: Src | null,
  ) {}

  static async create(fromRateHz: number, toRateHz: number): Promise<StreamResampler> {
    checkRate('fromRateHz', fromRateHz);
    checkRate('toRateHz', toRateHz);
    if (fromRateHz === toRateHz) return new StreamResampler(fromRateHz, toRateHz, null);
    const src = takePooled(`${fromRateHz}:${toRateHz}`) ?? (await LibSampleRate.create(1, fromRateHz, toRateHz, { converterType: CONVERTER }));
    return new StreamResampler(fromRateHz, toRateHz, src);
  }

  /** Resamples one chunk. Output lags input by a few ms (the filter's look-ahead). */
  process(pcm: Int16Array): Int16Array {
    this.assertUsable();
    if (this.src === null || pcm.length === 0) return pcm;
    const maxSliceSamples = Math.floor(WASM_BUFFER_FLOATS / Math.max(1, this.toRateHz / this.fromRateHz));
    const parts: Int16Array[] = [];
    for (let at = 0; at < pcm.length; at += maxSliceSamples) {
      parts.push(pcm16FromFloat(this.src.full(floatFromPcm16(pcm.subarray(at, at + maxSliceSamples)))));
    }
    this.inputSamples += pcm.length;
    const out = concat(parts);
    this.outputSamples += out.length;
    return out;
  }

  /**
   * Ends the stream: returns the samples still held back by the filter, and resets the state so
   * the same instance can start a new stream. The library cannot signal end of input on a
   * streaming state (see the file comment), so silence is fed until the output reaches the
   * length the input implies, and the surplus (the silence's own output) is cut off.
   */
  flush(): Int16Array {
    this.assertUsable();
    const src = this.src;
    if (src === null) return new Int16Array(0);
    const owedSamples = Math.round((this.inputSamples * this.toRateHz) / this.fromRateHz) - this.outputSamples;
    const parts: Int16Array[] = [];
    let gotSamples = 0;
    if (this.inputSamples > 0) {
      const silence = new Float32Array(Math.ceil((this.fromRateHz * FLUSH_BLOCK_MS) / 1000));
      for (let block = 0; block < FLUSH_MAX_BLOCKS && gotSamples < owedSamples; block++) {
        const out = src.full(silence);
        const part = pcm16FromFloat(out, Math.min(out.length, owedSamples - gotSamples));
        parts.push(part);
        gotSamples += part.length;
      }
    }
    // Re-assigning a rate makes the library delete and recreate its SRC_STATE: the only reset it offers.
    src.inputSampleRate = this.fromRateHz;
    this.inputSamples = 0;
    this.outputSamples = 0;
    return concat(parts);
  }

  /**
   * Done with it: its library instance is reset and kept for the next resampler of the same rates
   * (or freed when the pool is full). Safe to call twice; process() and flush() throw afterwards.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (!this.src) return;
    // Re-assigning a rate makes the library delete and recreate its SRC_STATE: a fresh stream.
    this.src.inputSampleRate = this.fromRateHz;
    givePooled(`${this.fromRateHz}:${this.toRateHz}`, this.src);
  }

  private assertUsable(): void {
    if (this.destroyed) throw new Error('StreamResampler used after destroy()');
  }
}

/** Resamples a whole buffer (a file, a prompt) in one go; same result as streaming it. */
export async function resampleAll(pcm: Int16Array, fromRateHz: number, toRateHz: number): Promise<Int16Array> {
  const resampler = await StreamResampler.create(fromRateHz, toRateHz);
  try {
    if (fromRateHz === toRateHz) return pcm;
    return concat([resampler.process(pcm), resampler.flush()]);
  } finally {
    resampler.destroy();
  }
}
