/**
 * A reply's audio on its way out, for pause-then-decide interruptions: while paused nothing is
 * sent (chunks the synthesizer still makes wait here); on resume, audio from the position the
 * client last reported as played is sent again (a client that had to flush gets it back, one that
 * kept its queue drops what it holds from that offset, as `response_unpaused` tells it), then the
 * waiting chunks. It keeps what was sent after the played position, no more: a report drops the
 * chunks before it. Offsets are ms on the reply's audio timeline.
 */
export interface OutChunk {
  data: Uint8Array;
  offsetMs: number;
  durationMs: number;
}

export class PausableAudio {
  private paused = false;
  /** Sent and not yet reported played (re-sent on resume). */
  private readonly unplayed: OutChunk[] = [];
  /** Made while paused. */
  private readonly held: OutChunk[] = [];
  private playedMs = 0;

  constructor(
    private readonly send: (chunk: OutChunk) => void,
    /** Bytes of one sample in the output encoding (2 for PCM16, 1 for G.711): a resume cuts a chunk between samples. */
    private readonly sampleBytes: number,
  ) {}

  get isPaused(): boolean {
    return this.paused;
  }

  /** Bytes kept for a resume (for the outbound bound). */
  get keptBytes(): number {
    return [...this.unplayed, ...this.held].reduce((n, c) => n + c.data.byteLength, 0);
  }

  push(chunk: OutChunk): void {
    if (this.paused) {
      this.held.push(chunk);
      return;
    }
    this.unplayed.push(chunk);
    this.send(chunk);
  }

  /** The client played this far: chunks that end before it are no longer needed. */
  played(playedMs: number): void {
    this.playedMs = Math.max(this.playedMs, playedMs);
    while (this.unplayed.length > 0 && this.unplayed[0]!.offsetMs + this.unplayed[0]!.durationMs <= this.playedMs) this.unplayed.shift();
  }

  pause(): void {
    this.paused = true;
  }

  /**
   * Sends again from the played position (the chunk that holds it is cut there, between samples),
   * then what waited; returns the offset audio starts from (what `response_unpaused` says), also
   * given to `beforeSending` before anything is sent.
   */
  resume(beforeSending?: (fromMs: number) => void): number {
    this.paused = false;
    const again = this.unplayed.splice(0);
    const waiting = this.held.splice(0);
    const first = again[0];
    if (first && first.offsetMs < this.playedMs) again[0] = this.cut(first, this.playedMs);
    const fromMs = again[0]?.offsetMs ?? waiting[0]?.offsetMs ?? this.playedMs;
    beforeSending?.(fromMs); // the client hears where audio starts before the audio comes
    for (const chunk of [...again, ...waiting]) this.push(chunk);
    return fromMs;
  }

  /** The part of `chunk` from `atMs` on. */
  private cut(chunk: OutChunk, atMs: number): OutChunk {
    const samples = chunk.data.byteLength / this.sampleBytes;
    const skip = Math.min(samples, Math.floor(((atMs - chunk.offsetMs) / chunk.durationMs) * samples));
    const skippedMs = (skip / samples) * chunk.durationMs;
    return { data: chunk.data.subarray(skip * this.sampleBytes), offsetMs: chunk.offsetMs + skippedMs, durationMs: chunk.durationMs - skippedMs };
  }
}
