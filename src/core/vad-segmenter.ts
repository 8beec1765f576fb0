/**
 * Turns per-frame speech probabilities into speech start and stop, with hysteresis (two
 * thresholds) and minimum durations, all in audio time so results do not depend on how fast
 * audio arrives. Every VAD model shares this logic; a model only gives probabilities.
 */
export interface VadSegmenterSettings {
  /** Probability at or above which a frame is speech. */
  threshold: number;
  /** Probability below which a frame is silence; between the two the state holds. */
  negThreshold: number;
  /** Speech must last this long before it counts (filters clicks and coughs). */
  minSpeechMs: number;
  /** Silence this long ends a stretch of speech. */
  minSilenceMs: number;
}

export type VadEdge =
  | { type: 'speech_start'; offsetMs: number }
  | { type: 'speech_end'; offsetMs: number };

export class VadSegmenter {
  private inSpeech = false;
  /** Offset where the current candidate speech (or silence inside speech) began. */
  private speechCandidateMs: number | null = null;
  private silenceCandidateMs: number | null = null;

  private settings: VadSegmenterSettings;
  private readonly baseNegThreshold: number;

  constructor(settings: VadSegmenterSettings) {
    this.settings = { ...settings };
    this.baseNegThreshold = settings.negThreshold;
  }

  /** A session's own speech threshold; the silence threshold never goes above it. */
  setThreshold(threshold: number): void {
    this.settings = { ...this.settings, threshold, negThreshold: Math.min(this.baseNegThreshold, threshold) };
  }

  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Ms of continuous speech at `nowMs`, 0 when not in speech. */
  speechDurationMs(nowMs: number): number {
    return this.inSpeech && this.speechCandidateMs !== null ? nowMs - this.speechCandidateMs : 0;
  }

  /** Ms of silence since speech ended (or since the last speaking frame) at `nowMs`. */
  silenceDurationMs(nowMs: number): number {
    return this.silenceCandidateMs === null ? 0 : nowMs - this.silenceCandidateMs;
  }

  /** Feeds one frame that spans [startMs, endMs) of the input; returns an edge if one happened. */
  push(probability: number, startMs: number, endMs: number): VadEdge | null {
    const { threshold, negThreshold, minSpeechMs, minSilenceMs } = this.settings;
    if (probability >= threshold) {
      this.silenceCandidateMs = this.inSpeech ? null : this.silenceCandidateMs;
      this.speechCandidateMs ??= startMs;
      if (!this.inSpeech && endMs - this.speechCandidateMs >= minSpeechMs) {
        this.inSpeech = true;
        this.silenceCandidateMs = null;
        return { type: 'speech_start', offsetMs: this.speechCandidateMs };
      }
      return null;
    }
    if (probability < negThreshold) {
      if (!this.inSpeech) {
        this.speechCandidateMs = null;
        this.silenceCandidateMs ??= startMs;
        return null;
      }
      this.silenceCandidateMs ??= startMs;
      if (endMs - this.silenceCandidateMs >= minSilenceMs) {
        this.inSpeech = false;
        this.speechCandidateMs = null;
        return { type: 'speech_end', offsetMs: this.silenceCandidateMs };
      }
    }
    return null;
  }
}
