/**
 * The audio of a reply that was sent but not yet played, kept so that a client whose connection
 * dropped can hear the reply go on from where it was (a resume in the same process): nothing is
 * synthesized again. Chunks are dropped once a playback report says they were played, and the
 * oldest past `maxBytes`; a resume from before what is kept cannot go on (the reply then ends
 * interrupted there).
 */
import type { AudioEncoding } from '../audio/codec.js';
import type { ServerEvent } from './events.js';
import type { SpokenPiece } from './history.js';

interface SentChunk {
  offsetMs: number;
  durationMs: number;
  data: Uint8Array;
  /** Index of its piece in the reply's pieces. */
  piece: number;
}

export class ReplayBuffer {
  private readonly chunks: SentChunk[] = [];
  private bytes = 0;
  /** Audio before this was dropped unplayed (past maxBytes). */
  private lostBeforeMs = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly encoding: AudioEncoding,
    private readonly sampleRateHz: number,
  ) {}

  add(offsetMs: number, durationMs: number, data: Uint8Array, piece: number): void {
    this.chunks.push({ offsetMs, durationMs, data, piece });
    this.bytes += data.byteLength;
    while (this.bytes > this.maxBytes && this.chunks.length > 0) {
      const dropped = this.chunks.shift()!;
      this.bytes -= dropped.data.byteLength;
      this.lostBeforeMs = dropped.offsetMs + dropped.durationMs;
    }
  }

  /** The client played up to `playedMs`: what ends before it will not be needed again. */
  played(playedMs: number): void {
    while (this.chunks.length > 0 && this.chunks[0]!.offsetMs + this.chunks[0]!.durationMs <= playedMs) {
      this.bytes -= this.chunks.shift()!.data.byteLength;
    }
  }

  /**
   * The events that play the reply again from `fromMs`: each piece's text before its first audio
   * (as when it was first sent) and the audio from `fromMs` on; `earlierText`: the text of the
   * pieces before the one playing at `fromMs`. Null when audio from `fromMs` is no longer held.
   */
  from(fromMs: number, responseId: string, pieces: readonly SpokenPiece[]): { earlierText: string; events: ServerEvent[] } | null {
    if (fromMs < this.lostBeforeMs) return null;
    const playing = pieces.findIndex((p) => p.startMs <= fromMs && fromMs < p.startMs + p.durationMs);
    const firstUnheard = playing >= 0 ? playing : pieces.filter((p) => p.startMs + p.durationMs <= fromMs).length;
    const earlierText = pieces.slice(0, firstUnheard).map((p) => p.text).join(' ');
    const events: ServerEvent[] = [];
    let textSentFor = firstUnheard - 1;
    for (const chunk of this.chunks) {
      if (chunk.offsetMs + chunk.durationMs <= fromMs) continue;
      for (; textSentFor < chunk.piece; textSentFor++) {
        const text = pieces[textSentFor + 1]?.text ?? '';
        events.push({ type: 'response_text', responseId, delta: textSentFor + 1 > 0 ? ` ${text}` : text });
      }
      const skip = chunk.offsetMs < fromMs ? this.bytesFor(fromMs - chunk.offsetMs) : 0;
      if (skip >= chunk.data.byteLength) continue;
      events.push({ type: 'response_audio', responseId, data: chunk.data.subarray(skip), offsetMs: Math.round(Math.max(chunk.offsetMs, fromMs)) });
    }
    return { earlierText, events };
  }

  /** Whole samples' bytes in `ms` of audio. */
  private bytesFor(ms: number): number {
    const bytesPerSample = this.encoding === 'pcm16' ? 2 : 1;
    return Math.round((ms * this.sampleRateHz) / 1000) * bytesPerSample;
  }
}
