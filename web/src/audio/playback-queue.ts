/**
 * The reply audio waiting to be played, for the playback worklet: a small jitter buffer (a reply
 * starts once a little audio is queued, or once it has waited that long, so a short tail still
 * plays), a flush that drops a reply's audio at once, and how far each reply has been played.
 * Pure: no Web Audio here, so it is tested in Node.
 */

export interface PlaybackQueueOptions {
  /** Audio queued before playing starts (or restarts after running dry), in samples. */
  startThresholdSamples: number;
}

/** A sample whose magnitude is above this counts as sound (about -60 dBFS). */
export const SOUND_LEVEL = 1 / 1024;
/** Positions are kept for this many recent replies. */
const REMEMBERED_REPLIES = 8;

interface Chunk {
  responseId: string;
  samples: Float32Array;
  read: number;
}

export class PlaybackQueue {
  private readonly chunks: Chunk[] = [];
  private queuedSamples = 0;
  private priming = true;
  private waitedSamples = 0;
  /** Samples of each reply handed to the output so far. */
  readonly played = new Map<string, number>();
  /** Every reply sample handed to the output. */
  playedSamples = 0;
  /** Of those, the samples with sound in them. */
  soundSamples = 0;
  /** The largest magnitude played. */
  peak = 0;

  constructor(private readonly options: PlaybackQueueOptions) {}

  get bufferedSamples(): number {
    return this.queuedSamples;
  }

  push(responseId: string, samples: Float32Array): void {
    if (samples.length === 0) return;
    if (!this.played.has(responseId)) {
      this.played.set(responseId, 0);
      const oldest = this.played.keys().next().value;
      if (this.played.size > REMEMBERED_REPLIES && oldest !== undefined) this.played.delete(oldest);
    }
    this.chunks.push({ responseId, samples, read: 0 });
    this.queuedSamples += samples.length;
  }

  /** Drops the queued audio of `responseId` (of every reply when undefined); returns the samples dropped. */
  flush(responseId?: string): number {
    let dropped = 0;
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const chunk = this.chunks[i]!;
      if (responseId !== undefined && chunk.responseId !== responseId) continue;
      dropped += chunk.samples.length - chunk.read;
      this.chunks.splice(i, 1);
    }
    this.queuedSamples -= dropped;
    if (this.queuedSamples === 0) this.startPriming();
    return dropped;
  }

  /** Fills one render quantum with queued audio, or silence while priming or dry. */
  render(out: Float32Array): void {
    out.fill(0);
    if (this.priming) {
      if (this.queuedSamples === 0) return;
      if (this.queuedSamples < this.options.startThresholdSamples && this.waitedSamples < this.options.startThresholdSamples) {
        this.waitedSamples += out.length;
        return;
      }
      this.priming = false;
    }
    let at = 0;
    while (at < out.length) {
      const chunk = this.chunks[0];
      if (!chunk) {
        this.startPriming(); // ran dry: buffer a little again before going on
        return;
      }
      const n = Math.min(out.length - at, chunk.samples.length - chunk.read);
      for (let i = 0; i < n; i++) {
        const s = chunk.samples[chunk.read + i]!;
        out[at + i] = s;
        const magnitude = Math.abs(s);
        if (magnitude > SOUND_LEVEL) this.soundSamples++;
        if (magnitude > this.peak) this.peak = magnitude;
      }
      chunk.read += n;
      at += n;
      this.queuedSamples -= n;
      this.playedSamples += n;
      this.played.set(chunk.responseId, (this.played.get(chunk.responseId) ?? 0) + n);
      if (chunk.read === chunk.samples.length) this.chunks.shift();
    }
  }

  private startPriming(): void {
    this.priming = true;
    this.waitedSamples = 0;
  }
}
