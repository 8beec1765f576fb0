/** Messages between the page and its two audio worklets (shared so both sides agree). */

export const CAPTURE_PROCESSOR = 'voice-capture';
export const PLAYBACK_PROCESSOR = 'voice-playback';

export interface CaptureOptions {
  /** Samples per chunk posted to the page. */
  chunkSamples: number;
}

/** Capture worklet -> page: one chunk of microphone audio, already PCM16. */
export interface CapturedChunk {
  type: 'audio';
  samples: Int16Array;
  /** Largest magnitude in the chunk, 0..1 (for the level meter). */
  peak: number;
}

export interface PlaybackOptions {
  /** Audio queued before a reply starts playing, in samples. */
  startThresholdSamples: number;
  /** How often positions are reported, in samples. */
  reportEverySamples: number;
}

/** Page -> playback worklet. */
export type PlaybackCommand =
  | { type: 'audio'; responseId: string; samples: Float32Array }
  /** Drops the queued audio of one reply (of all when responseId is undefined) at once. */
  | { type: 'flush'; responseId?: string };

/** Playback worklet -> page: how far each recent reply has been played, and totals. */
export interface PlaybackReport {
  type: 'position' | 'flushed';
  /** [responseId, samples played] of recent replies. */
  played: Array<[string, number]>;
  bufferedSamples: number;
  playedSamples: number;
  soundSamples: number;
  peak: number;
  /** For 'flushed': what was dropped. */
  flushed?: { responseId?: string; droppedSamples: number };
}
