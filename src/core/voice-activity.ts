/**
 * The session's ear for speech: input audio at a rate the model takes (as it is when the model
 * can, as Silero can at 8 kHz; else resampled to the model's rate), cut into the model's frames,
 * scored, and turned into speech start/stop edges with the segmenter's hysteresis. All positions
 * are in audio time (ms of the input stream), so decisions do not depend on how fast audio arrives.
 */
import { durationMs } from '../audio/pcm.js';
import { StreamResampler } from '../audio/resampler.js';
import type { VadStream, VoiceActivityDetector } from '../providers/types.js';
import { vadFrameSamplesAt } from './input-rates.js';
import { VadSegmenter, type VadEdge, type VadSegmenterSettings } from './vad-segmenter.js';

export class VoiceActivity {
  private stream: VadStream;
  /** The rate the stream is fed at, and its frame length there. */
  private streamRateHz: number;
  private frameSamples: number;
  private readonly segmenter: VadSegmenter;
  /** Made on the first audio that needs it, so an idle session holds none. */
  private resampler: StreamResampler | null = null;
  private inputRateHz: number;
  private closed = false;
  private buffer = new Int16Array(0);
  private threshold: number;
  /** Audio time of the end of the last scored frame. */
  private offsetMs = 0;
  /** Audio time at the end of the last voiced frame: end-of-turn silence counts from it. */
  private lastVoicedOffsetMs = 0;
  /** Wall time (performance.now) when the last voiced frame was scored: the end of speech. */
  lastVoicedAt: number | undefined;

  constructor(
    private readonly detector: VoiceActivityDetector,
    settings: VadSegmenterSettings,
  ) {
    this.stream = detector.createStream();
    this.streamRateHz = detector.sampleRateHz;
    this.frameSamples = detector.frameSamples;
    this.segmenter = new VadSegmenter(settings);
    this.threshold = settings.threshold;
    this.inputRateHz = detector.sampleRateHz;
  }

  /** Audio comes at this rate from now on: the model takes it as it is if it can, else it is resampled (before any audio). */
  setInputRate(inputRateHz: number): void {
    this.resampler?.destroy();
    this.resampler = null;
    this.inputRateHz = inputRateHz;
    this.buffer = new Int16Array(0);
    const native = vadFrameSamplesAt(this.detector, inputRateHz);
    const streamRateHz = native === undefined ? this.detector.sampleRateHz : inputRateHz;
    if (streamRateHz === this.streamRateHz) return;
    this.stream.close();
    this.stream = this.detector.createStream(streamRateHz);
    this.streamRateHz = streamRateHz;
    this.frameSamples = native ?? this.detector.frameSamples;
  }

  /** A session may ask for its own speech threshold (the OpenAI Realtime `threshold`). */
  setThreshold(threshold: number): void {
    this.threshold = threshold;
    this.segmenter.setThreshold(threshold);
  }

  get speaking(): boolean {
    return this.segmenter.speaking;
  }

  /** Ms of the current stretch of speech. */
  get speechMs(): number {
    return this.segmenter.speechDurationMs(this.offsetMs);
  }

  /**
   * Ms of silence since the last voiced frame. The segmenter's own silence goes on through speech
   * shorter than its minimum, so the first frames of new speech would still count as old silence.
   */
  get silenceMs(): number {
    return Math.min(this.segmenter.silenceDurationMs(this.offsetMs), this.offsetMs - this.lastVoicedOffsetMs);
  }

  /**
   * Scores `pcm` (at the input rate) frame by frame; after each frame `onFrame` gets the edge it
   * made, if any, and returns false to stop (the session closed).
   */
  async push(pcm: Int16Array, onFrame: (edge: VadEdge | null) => boolean): Promise<void> {
    const { frameSamples, streamRateHz } = this;
    const frameMs = durationMs(frameSamples, streamRateHz);
    if (!this.resampler && this.inputRateHz !== streamRateHz) await this.makeResampler();
    if (this.closed) return;
    const resampled = this.resampler ? this.resampler.process(pcm) : pcm;
    const buffered = new Int16Array(this.buffer.length + resampled.length);
    buffered.set(this.buffer);
    buffered.set(resampled, this.buffer.length);
    let at = 0;
    for (; at + frameSamples <= buffered.length; at += frameSamples) {
      const probability = await this.stream.speechProbability(buffered.subarray(at, at + frameSamples));
      const startMs = this.offsetMs;
      this.offsetMs += frameMs;
      if (probability >= this.threshold) {
        this.lastVoicedAt = performance.now();
        this.lastVoicedOffsetMs = this.offsetMs;
      }
      if (!onFrame(this.segmenter.push(probability, startMs, this.offsetMs))) return;
    }
    this.buffer = buffered.slice(at);
  }

  close(): void {
    this.closed = true;
    this.stream.close();
    this.resampler?.destroy();
  }

  private async makeResampler(): Promise<void> {
    const made = await StreamResampler.create(this.inputRateHz, this.streamRateHz);
    if (this.closed) made.destroy();
    else this.resampler = made;
  }
}
