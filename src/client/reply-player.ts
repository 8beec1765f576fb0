/**
 * Plays reply audio at real-time pace, as a speaker would: a playhead that advances with the wall
 * clock over the queued audio. Without a sound card (`ask`) that playhead is the listener; with one
 * (`talk`) each slice it passes goes to the speaker as it becomes due, so that an interruption
 * drops what was not yet played instead of what a device buffer already holds.
 */
export interface ReplyPlayerOptions {
  /** Receives each slice of audio as it is played (the speaker). */
  sink?: (pcm: Int16Array) => void;
  /** Keep everything played, for `heard()` (the `--out` file). Default true. */
  keepHeard?: boolean;
  /**
   * The playhead starts this far ahead when a reply's first audio arrives, so a speaker fed by the
   * sink never starves between ticks. Default 0.
   */
  leadMs?: number;
}

export class ReplyPlayer {
  private responseId: string | null = null;
  private queue: Int16Array[] = [];
  private queuedSamples = 0;
  private playedSamples = 0;
  private lastTickAt = 0;
  private readonly played: Int16Array[] = [];
  private readonly sink: ((pcm: Int16Array) => void) | undefined;
  private readonly keepHeard: boolean;
  private readonly leadMs: number;

  constructor(
    private readonly sampleRateHz: number,
    options: ReplyPlayerOptions = {},
  ) {
    this.sink = options.sink;
    this.keepHeard = options.keepHeard ?? true;
    this.leadMs = options.leadMs ?? 0;
  }

  /**
   * A new reply starts; anything left of the previous one is dropped. `fromMs`: a resumed reply goes
   * on from there, so positions stay on its own timeline.
   */
  begin(responseId: string, fromMs = 0): void {
    this.responseId = responseId;
    this.queue = [];
    this.queuedSamples = 0;
    this.playedSamples = Math.round((fromMs * this.sampleRateHz) / 1000);
  }

  enqueue(responseId: string, pcm: Int16Array): void {
    if (responseId !== this.responseId) return; // audio of a reply already dropped
    if (this.queuedSamples === 0) this.lastTickAt = performance.now() - this.leadMs;
    this.queue.push(pcm);
    this.queuedSamples += pcm.length;
  }

  /** The reply being played and how much of it was played, without moving the playhead. */
  get position(): { responseId: string; playedMs: number } | null {
    return this.responseId ? { responseId: this.responseId, playedMs: (this.playedSamples * 1000) / this.sampleRateHz } : null;
  }

  get playing(): boolean {
    return this.queuedSamples > 0;
  }

  /** Advances the playhead to now; returns the position of the reply being played, if any. */
  tick(): { responseId: string; playedMs: number } | null {
    if (!this.responseId || this.queuedSamples === 0) return null;
    const now = performance.now();
    let due = Math.floor(((now - this.lastTickAt) * this.sampleRateHz) / 1000);
    // Only whole samples are played: the remainder stays due for the next tick.
    this.lastTickAt += (due * 1000) / this.sampleRateHz;
    while (due > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      const take = Math.min(due, head.length);
      const slice = head.subarray(0, take);
      if (this.keepHeard) this.played.push(slice);
      this.sink?.(slice);
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
      this.queuedSamples -= take;
      this.playedSamples += take;
      due -= take;
    }
    return { responseId: this.responseId, playedMs: (this.playedSamples * 1000) / this.sampleRateHz };
  }

  /** The reply was interrupted: stop now, drop what is queued; returns the ms played. */
  stop(responseId: string): number {
    if (responseId !== this.responseId) return 0;
    this.tick();
    const playedMs = (this.playedSamples * 1000) / this.sampleRateHz;
    this.queue = [];
    this.queuedSamples = 0;
    this.responseId = null;
    return playedMs;
  }

  /** Everything played so far, back to back (empty when `keepHeard` is false). */
  heard(): Int16Array {
    const out = new Int16Array(this.played.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of this.played) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
