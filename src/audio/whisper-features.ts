/**
 * Whisper's log-mel features, as Smart Turn v3 wants them: what
 * `transformers.WhisperFeatureExtractor(chunk_length=8)` computes with `padding="max_length",
 * max_length=128000, do_normalize=True` (Pipecat's `_whisper_features.py` is the numpy port we
 * follow, step for step):
 *   1. 16 kHz audio as floats in [-1, 1], exactly 8 s: the last 8 s, or zeros in front.
 *   2. Zero mean, unit variance over the whole buffer (padding included): (x - mean) / sqrt(var + 1e-7).
 *   3. STFT: 400-point periodic Hann window, hop 160, the signal reflected by 200 samples at each
 *      end (centred frames): 801 frames of 201 power bins |X|².
 *   4. 80 triangular mel filters, 0 to 8000 Hz, Slaney mel scale and Slaney area normalisation.
 *   5. log10(max(1e-10, mel)), the last frame dropped (800 left), floored at (max - 8), then (v + 4) / 4.
 * Output: float32, 80 rows (mel bins, low to high) of 800 frames (oldest first), row-major.
 */
import { RealFft } from './real-fft.js';

export const WHISPER_SAMPLE_RATE_HZ = 16000;
export const WHISPER_N_FFT = 400;
export const WHISPER_HOP = 160;
export const WHISPER_MELS = 80;
/** Smart Turn looks at 8 s. */
export const SMART_TURN_WINDOW_SAMPLES = 8 * WHISPER_SAMPLE_RATE_HZ;
export const SMART_TURN_FRAMES = SMART_TURN_WINDOW_SAMPLES / WHISPER_HOP;

const MEL_FLOOR = 1e-10;
const NORM_EPSILON = 1e-7;
const LOG_RANGE = 8;

/** Hz to mel on the Slaney scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above. */
export function hzToMelSlaney(hz: number): number {
  if (hz < 1000) return (3 * hz) / 200;
  return 15 + (Math.log(hz / 1000) * 27) / Math.log(6.4);
}

export function melToHzSlaney(mel: number): number {
  if (mel < 15) return (200 * mel) / 3;
  return 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15));
}

/** One triangular filter: its weights on the bins from `firstBin` on (zero elsewhere). */
export interface MelFilter {
  firstBin: number;
  weights: Float64Array;
}

/**
 * `melCount` filters over `binCount` FFT bins spaced evenly from 0 to sampleRateHz / 2: triangles
 * between mel-spaced corner frequencies, each scaled by 2 / (its width in Hz) so every filter has
 * the same area (Slaney normalisation). Kept sparse: a filter covers a few bins only.
 */
export function slaneyMelFilters(binCount: number, melCount: number, minHz: number, maxHz: number, sampleRateHz: number): MelFilter[] {
  const melMin = hzToMelSlaney(minHz);
  const melMax = hzToMelSlaney(maxHz);
  const corners = Array.from({ length: melCount + 2 }, (_, i) => melToHzSlaney(melMin + ((melMax - melMin) * i) / (melCount + 1)));
  const binHz = (k: number) => ((sampleRateHz / 2) * k) / (binCount - 1);
  const filters: MelFilter[] = [];
  for (let m = 0; m < melCount; m++) {
    const [low, centre, high] = [corners[m]!, corners[m + 1]!, corners[m + 2]!];
    const area = 2 / (high - low);
    const weightAt = (k: number) => Math.max(0, Math.min((binHz(k) - low) / (centre - low), (high - binHz(k)) / (high - centre))) * area;
    // A triangle is non-zero on one run of bins: from the first bin above `low` to the last below `high`.
    let firstBin = 0;
    while (firstBin < binCount && weightAt(firstBin) === 0 && binHz(firstBin) < centre) firstBin++;
    let endBin = firstBin;
    while (endBin < binCount && weightAt(endBin) > 0) endBin++;
    const weights = Float64Array.from({ length: endBin - firstBin }, (_, i) => weightAt(firstBin + i));
    filters.push({ firstBin, weights });
  }
  return filters;
}

/** Periodic Hann window (as torch.hann_window): 0.5 - 0.5 cos(2πn / N), n = 0..N-1. */
export function periodicHann(length: number): Float32Array {
  return Float32Array.from({ length }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length));
}

/**
 * The features of one 8 s window. Keeps its FFT plan and buffers: one extractor per thread,
 * reused for every call (not safe to share across concurrent calls, which a thread cannot make).
 */
export class WhisperFeatures {
  private readonly window = periodicHann(WHISPER_N_FFT);
  private readonly filters = slaneyMelFilters(WHISPER_N_FFT / 2 + 1, WHISPER_MELS, 0, WHISPER_SAMPLE_RATE_HZ / 2, WHISPER_SAMPLE_RATE_HZ);
  private readonly frame = new Float32Array(WHISPER_N_FFT);
  private readonly power = new Float64Array(WHISPER_N_FFT / 2 + 1);

  private constructor(private readonly fft: RealFft) {}

  static async create(): Promise<WhisperFeatures> {
    return new WhisperFeatures(await RealFft.create(WHISPER_N_FFT));
  }

  /** The 8 s Smart Turn looks at from mono 16 kHz PCM16 (newest last): the end, or zeros in front. */
  static window8s(pcm: Int16Array): Float32Array {
    const out = new Float32Array(SMART_TURN_WINDOW_SAMPLES);
    const take = Math.min(pcm.length, SMART_TURN_WINDOW_SAMPLES);
    const from = pcm.length - take;
    const to = SMART_TURN_WINDOW_SAMPLES - take;
    for (let i = 0; i < take; i++) out[to + i] = pcm[from + i]! / 32768;
    return out;
  }

  /** Features [80 × frames] of `audio` (floats in [-1, 1]; frames = samples / 160). */
  compute(audio: Float32Array): Float32Array {
    const samples = audio.length;
    if (samples < WHISPER_N_FFT || samples % WHISPER_HOP !== 0) throw new RangeError(`audio of ${samples} samples: use a multiple of ${WHISPER_HOP}, at least ${WHISPER_N_FFT}`);
    const x = normalized(audio);
    const frames = samples / WHISPER_HOP; // 1 + samples / hop frames, the last dropped
    const logMel = new Float32Array(WHISPER_MELS * frames);
    const half = WHISPER_N_FFT / 2;
    let max = -Infinity;
    for (let f = 0; f < frames; f++) {
      const start = f * WHISPER_HOP - half;
      for (let n = 0; n < WHISPER_N_FFT; n++) this.frame[n] = x[reflect(start + n, samples)]! * this.window[n]!;
      this.fft.powerSpectrum(this.frame, this.power);
      for (let m = 0; m < WHISPER_MELS; m++) {
        const { firstBin, weights } = this.filters[m]!;
        let sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k]! * this.power[firstBin + k]!;
        const v = Math.log10(Math.max(MEL_FLOOR, sum));
        logMel[m * frames + f] = v;
        if (v > max) max = v;
      }
    }
    const floor = max - LOG_RANGE;
    for (let i = 0; i < logMel.length; i++) logMel[i] = (Math.max(logMel[i]!, floor) + 4) / 4;
    return logMel;
  }

  dispose(): void {
    this.fft.dispose();
  }
}

/** (x - mean) / sqrt(var + 1e-7), in float32 as the reference does. */
function normalized(audio: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < audio.length; i++) sum += audio[i]!;
  const mean = sum / audio.length;
  let squares = 0;
  for (let i = 0; i < audio.length; i++) squares += (audio[i]! - mean) ** 2;
  const scale = 1 / Math.sqrt(squares / audio.length + NORM_EPSILON);
  const out = new Float32Array(audio.length);
  for (let i = 0; i < audio.length; i++) out[i] = (audio[i]! - mean) * scale;
  return out;
}

/** numpy's "reflect" padding: index -1 is 1, index n is n - 2 (the edge sample is not repeated). */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}
