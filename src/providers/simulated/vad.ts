/**
 * Simulated voice activity detection for capacity planning: a frame louder than the profile's
 * threshold is speech. Costs next to nothing, so a benchmark measures the gateway, not a model.
 * Loudness needs no particular rate: like Silero at 8 kHz, it takes phone audio as it is.
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
  private readonly frameMs: number;

  constructor(profile: SimulatedProfile['vad']) {
    this.frameMs = profile.frameMs;
    this.frameSamples = Math.round((SAMPLE_RATE_HZ * profile.frameMs) / 1000);
    this.thresholdDbfs = profile.speechThresholdDbfs;
  }

  frameSamplesAt(rateHz: number): number {
    return Math.round((rateHz * this.frameMs) / 1000);
  }

  createStream(): VadStream {
    return {
      speechProbability: (frame) => Promise.resolve(rmsDbfs(frame) > this.thresholdDbfs ? SPEECH_PROBABILITY : SILENCE_PROBABILITY),
      close: () => undefined,
    };
  }
}
