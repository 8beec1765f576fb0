/**
 * Simulated voice activity detection for capacity planning: a frame louder than the profile's
 * threshold is speech. Costs next to nothing, so a benchmark measures the gateway, not a model.
 */
import { rmsDbfs } from '../../audio/pcm.js';
import type { SimulatedProfile } from './profile.js';
import type { VadStream, VoiceActivityDetector } from '../types.js';

const SAMPLE_RATE_HZ = 16000;
const SPEECH_PROBABILITY = 0.95;
const SILENCE_PROBABILITY = 0.02;

export class SimulatedVad implements VoiceActivityDetector {
  readonly sampleRateHz = SAMPLE_RATE_HZ;
  readonly frameSamples: number;
  private readonly thresholdDbfs: number;

  constructor(profile: SimulatedProfile['vad']) {
    this.frameSamples = Math.round((SAMPLE_RATE_HZ * profile.frameMs) / 1000);
    this.thresholdDbfs = profile.speechThresholdDbfs;
  }

  createStream(): VadStream {
    return {
      speechProbability: (frame) => Promise.resolve(rmsDbfs(frame) > this.thresholdDbfs ? SPEECH_PROBABILITY : SILENCE_PROBABILITY),
      close: () => undefined,
    };
  }
}
