/**
 * Resamplers for TTS servers whose audio comes at a rate of their own (Kokoro's 24 kHz, a Piper
 * voice's 22.05 kHz): made once and reused, since making one costs 5-60 ms of main-thread time
 * (docs/architecture.md, "espeak's audio is resampled in its worker") and each reply piece needs
 * one. A resampler is flushed (which resets it) before it goes back; a few idle ones are kept per
 * pair of rates, the rest destroyed.
 */
import { StreamResampler } from '../../audio/resampler.js';

/** Idle resamplers kept per pair of rates: about the pieces synthesized at once. */
const IDLE_PER_PAIR = 4;

export class ResamplerPool {
  private readonly idle = new Map<string, StreamResampler[]>();

  /** A resampler from `fromRateHz` to `toRateHz`; null when the rates are equal. */
  async take(fromRateHz: number, toRateHz: number): Promise<StreamResampler | null> {
    if (fromRateHz === toRateHz) return null;
    return this.idle.get(`${fromRateHz}>${toRateHz}`)?.pop() ?? (await StreamResampler.create(fromRateHz, toRateHz));
  }

  /** Ends the resampler's stream (its held-back samples are returned) and keeps it for reuse. */
  give(resampler: StreamResampler | null): Int16Array {
    if (!resampler) return new Int16Array(0);
    const rest = resampler.flush();
    const key = `${resampler.fromRateHz}>${resampler.toRateHz}`;
    const list = this.idle.get(key) ?? [];
    if (list.length < IDLE_PER_PAIR) {
      list.push(resampler);
      this.idle.set(key, list);
    } else {
      resampler.destroy();
    }
    return rest;
  }
}
