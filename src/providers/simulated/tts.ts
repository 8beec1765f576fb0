/**
 * Simulated speech synthesis for capacity planning: the first chunk after `firstByteMs`, the rest
 * at `realTimeFactor` (synthesis time per audio time), on a schedule fixed at the request. The
 * audio lasts `msPerChar` per character of text and is a tone or noise, never silence, so that a
 * listener (or a VAD hearing echo) can tell it is there. Its word timings are exact: a word
 * starts at its first character's place in the text times `msPerChar`.
 */
import { waitUntil } from './clock.js';
import type { SimulatedProfile } from './profile.js';
import type { SpeechSynthesizer, TtsChunk, TtsOptions, WordTiming } from '../types.js';

type TtsProfile = SimulatedProfile['tts'];

const TONE_HZ = 400;
/** About -20 dBFS: clearly audible, far from clipping. */
const AMPLITUDE = 3300;

/** How long the simulated voice takes to say `text`. */
export function simulatedSpeechMs(profile: TtsProfile, text: string): number {
  return text.length * profile.msPerChar;
}

/** Where each word (a run of non-space characters) of `text` starts in the simulated voice's audio. */
export function simulatedWordTimings(profile: TtsProfile, text: string): WordTiming[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ textOffset: m.index, textLength: m[0].length, startMs: m.index * profile.msPerChar }));
}

export class SimulatedSynthesizer implements SpeechSynthesizer {
  /** One full tone chunk per output rate, copied out: sines are the costly part of a chunk. */
  private readonly tones = new Map<number, Int16Array>();

  constructor(private readonly profile: TtsProfile) {}

  async *stream(text: string, opts: TtsOptions, requestSignal: AbortSignal): AsyncGenerator<TtsChunk> {
    // A profile that ignores aborts plays a backend that goes on regardless.
    const signal = this.profile.ignoresAbort ? new AbortController().signal : requestSignal;
    const startedAt = performance.now();
    const { firstByteMs, realTimeFactor, chunkMs } = this.profile;
    const totalMs = simulatedSpeechMs(this.profile, text);
    const words = simulatedWordTimings(this.profile, text);
    for (let atMs = 0; atMs < totalMs; atMs += chunkMs) {
      await waitUntil(startedAt + firstByteMs + atMs * realTimeFactor, signal);
      if (signal.aborted) return;
      const samples = Math.round((Math.min(chunkMs, totalMs - atMs) * opts.sampleRateHz) / 1000);
      // The words that start in this chunk go with it.
      const starting = words.filter((w) => w.startMs >= atMs && w.startMs < atMs + chunkMs);
      if (samples > 0) yield { pcm: this.sound(samples, opts.sampleRateHz), sampleRateHz: opts.sampleRateHz, ...(starting.length > 0 ? { words: starting } : {}) };
    }
  }

  private sound(samples: number, sampleRateHz: number): Int16Array {
    if (this.profile.sound === 'noise') {
      const out = new Int16Array(samples);
      for (let i = 0; i < samples; i++) out[i] = Math.round((Math.random() * 2 - 1) * AMPLITUDE);
      return out;
    }
    let tone = this.tones.get(sampleRateHz);
    if (!tone) {
      tone = new Int16Array(Math.round((this.profile.chunkMs * sampleRateHz) / 1000));
      for (let i = 0; i < tone.length; i++) tone[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * i) / sampleRateHz));
      this.tones.set(sampleRateHz, tone);
    }
    return tone.slice(0, samples);
  }
}
