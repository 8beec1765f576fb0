/** Messages between EspeakSynthesizer (main thread) and espeak-worker (worker thread). */
import type { WordTiming } from '../types.js';

export interface EspeakVoiceInfo {
  /** Voice name as espeak-ng lists it, e.g. "English_(America)". */
  name: string;
  /** Voice file identifier, e.g. "gmw/en-US"; accepted as a voice name. */
  identifier: string;
  /** Language codes, most preferred first, e.g. ["en-us", "en"]. */
  languages: string[];
}

/** Which voice to use: an explicit espeak voice name, else the best voice for a BCP-47 language. */
export type EspeakVoiceSpec = { name: string } | { language: string };

export type ToWorker =
  | {
      type: 'synth';
      id: number;
      text: string;
      voice: EspeakVoiceSpec;
      /** Words per minute (espeak's default 175), or undefined for the default. */
      rateWpm: number | undefined;
      /** Rate of the audio wanted: the worker resamples, so no resampling runs on the main thread. */
      sampleRateHz: number;
      /** Int32Array over a SharedArrayBuffer: set [0] to 1 to stop this job at the next chunk. */
      abort: Int32Array;
    }
  | { type: 'voices'; id: number };

export type FromWorker =
  /** espeak-ng's own sample rate (22050 Hz). */
  | { type: 'ready'; sampleRateHz: number }
  /** 16-bit mono samples at the job's sample rate (the buffer is transferred), with the words espeak reported meanwhile. */
  | { type: 'chunk'; id: number; pcm: Int16Array; words?: WordTiming[] }
  /** words: any reported after the last audio. */
  | { type: 'done'; id: number; words?: WordTiming[] }
  | { type: 'error'; id: number; message: string }
  | { type: 'voices'; id: number; voices: EspeakVoiceInfo[] };
