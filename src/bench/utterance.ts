/**
 * What each bench caller says: a WAV file, or a built-in "utterance" (a voiced, syllable-like tone).
 * The moments where speech starts and ends in it are found by loudness, with the same threshold as
 * the simulated VAD, because the latencies are measured from them.
 */
import { readFile } from 'node:fs/promises';
import { rmsDbfs } from '../audio/pcm.js';
import { readWavAs } from '../audio/wav.js';

export const UTTERANCE_RATE_HZ = 16000;
const FRAME_MS = 10;
const FRAME_SAMPLES = (UTTERANCE_RATE_HZ * FRAME_MS) / 1000;

export interface Utterance {
  /** Mono PCM16 at UTTERANCE_RATE_HZ. */
  pcm: Int16Array;
  /** Where speech starts and ends in `pcm`, in ms (10 ms resolution). */
  speechStartMs: number;
  speechEndMs: number;
  source: string;
}

/**
 * 200 ms of silence, then `speechMs` of a 180 Hz voice with harmonics whose loudness rises and
 * falls four times a second like syllables, without ever falling to silence (no pause inside).
 */
export function builtInUtterance(speechMs = 1500, leadMs = 200): Utterance {
  const lead = Math.round((leadMs * UTTERANCE_RATE_HZ) / 1000);
  const pcm = new Int16Array(lead + Math.round((speechMs * UTTERANCE_RATE_HZ) / 1000));
  for (let i = lead; i < pcm.length; i++) {
    const t = (i - lead) / UTTERANCE_RATE_HZ;
    const syllable = 0.7 + 0.3 * Math.sin(2 * Math.PI * 4 * t);
    const voice = Math.sin(2 * Math.PI * 180 * t) + 0.5 * Math.sin(2 * Math.PI * 360 * t) + 0.25 * Math.sin(2 * Math.PI * 540 * t);
    pcm[i] = Math.round(5000 * syllable * voice);
  }
  return { pcm, speechStartMs: leadMs, speechEndMs: leadMs + speechMs, source: `built-in ${speechMs} ms utterance` };
}

/** A WAV file at any common rate; speech is what is louder than `speechThresholdDbfs`. */
export async function utteranceFromWav(path: string, speechThresholdDbfs: number): Promise<Utterance> {
  const pcm = await readWavAs(await readFile(path), UTTERANCE_RATE_HZ);
  const bounds = speechBounds(pcm, speechThresholdDbfs);
  if (!bounds) throw new Error(`${path} holds no speech: no 10 ms of it is louder than ${speechThresholdDbfs} dBFS`);
  return { pcm, ...bounds, source: path };
}

/** First and last 10 ms frame louder than the threshold, or null when there is none. */
export function speechBounds(pcm: Int16Array, thresholdDbfs: number): { speechStartMs: number; speechEndMs: number } | null {
  let first = -1;
  let last = -1;
  for (let frame = 0; (frame + 1) * FRAME_SAMPLES <= pcm.length; frame++) {
    if (rmsDbfs(pcm.subarray(frame * FRAME_SAMPLES, (frame + 1) * FRAME_SAMPLES)) > thresholdDbfs) {
      if (first === -1) first = frame;
      last = frame;
    }
  }
  return first === -1 ? null : { speechStartMs: first * FRAME_MS, speechEndMs: (last + 1) * FRAME_MS };
}
