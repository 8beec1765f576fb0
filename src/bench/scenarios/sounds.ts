/**
 * What the scripted callers say, as the simulated recognizer hears it (providers/asr/simulated.ts):
 * a 180 Hz voice is words (one per 300 ms), a 100 Hz hum is the backchannel "mm-hmm", white noise
 * (a cough, a door) is no words at all. The simulated VAD hears all three as speech.
 */
import { builtInUtterance } from '../utterance.js';
import { SCENARIO_RATE_HZ } from './scenario-client.js';

export function voice(ms: number): Int16Array {
  return builtInUtterance(ms, 0).pcm;
}

export function hum(ms: number): Int16Array {
  return Int16Array.from({ length: Math.round((ms * SCENARIO_RATE_HZ) / 1000) }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 100 * i) / SCENARIO_RATE_HZ)));
}

export function noise(ms: number, seed: number): Int16Array {
  let state = seed >>> 0 || 1;
  return Int16Array.from({ length: Math.round((ms * SCENARIO_RATE_HZ) / 1000) }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.round((state / 0x1_0000_0000 - 0.5) * 12000);
  });
}
