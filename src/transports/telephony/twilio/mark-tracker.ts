/**
 * Marks as playback reports. After each piece of reply audio the gateway sends a mark; Twilio
 * echoes it once the audio before it has been played, so an echo says "the caller has heard this
 * reply up to here". After a `clear`, Twilio echoes every pending mark at once although their
 * audio was dropped: those echoes must not count as heard, so `cleared()` forgets them first.
 */
export interface HeardPosition {
  responseId: string;
  playedMs: number;
}

/** Marks awaiting their echo at most (an hour of 100 ms pieces); the oldest is forgotten past it. */
const MAX_PENDING_MARKS = 36_000;

export class MarkTracker {
  private readonly pending = new Map<string, HeardPosition>();
  private count = 0;

  /** The name of a new mark that stands for `responseId` played up to `endMs`. */
  add(responseId: string, endMs: number): string {
    const name = `m${++this.count}`;
    this.pending.set(name, { responseId, playedMs: endMs });
    if (this.pending.size > MAX_PENDING_MARKS) this.pending.delete(this.pending.keys().next().value!);
    return name;
  }

  /** An echo: the heard position it stands for, or null for a mark that was cleared or is not ours. */
  echoed(name: string): HeardPosition | null {
    const position = this.pending.get(name);
    if (!position) return null;
    // Echoes come in order: every mark sent before this one has played too.
    for (const key of this.pending.keys()) {
      this.pending.delete(key);
      if (key === name) break;
    }
    return position;
  }

  /** A clear was sent: the pending marks will come back unplayed. */
  cleared(): void {
    this.pending.clear();
  }

  get waiting(): number {
    return this.pending.size;
  }
}
