/**
 * Keeps the agent's caption in step with its voice. The gateway sends each piece of reply text
 * just before that piece's first audio, so a piece starts at the amount of reply audio received
 * when its text arrived; it is shown once playback has passed that point. Pure, tested in Node.
 */
export class CaptionTimeline {
  private readonly pieces: Array<{ startMs: number; text: string }> = [];
  private receivedMs = 0;

  /** A `response_text` delta: it starts where the audio received so far ends. */
  addText(delta: string): void {
    this.pieces.push({ startMs: this.receivedMs, text: delta });
  }

  /** `response_audio` of `durationMs` arrived. */
  addAudio(durationMs: number): void {
    this.receivedMs += durationMs;
  }

  get audioReceivedMs(): number {
    return this.receivedMs;
  }

  /** The text whose audio has started playing once `playedMs` of the reply were played. */
  textAt(playedMs: number): string {
    let text = '';
    for (const piece of this.pieces) {
      if (playedMs <= piece.startMs) break;
      text += piece.text;
    }
    return text;
  }

  /** All text received (what the reply says when it is played to its end). */
  get fullText(): string {
    return this.pieces.map((p) => p.text).join('');
  }
}
