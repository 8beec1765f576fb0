/**
 * Half duplex for laptops without headphones: the microphone hears the speaker, and the gateway
 * would take the agent's own voice for the user talking over it (a barge-in). So while reply audio
 * plays, and for a tail after it (device buffers and the room still sound), the microphone is
 * muted: silence goes out in place of its audio. Silence rather than nothing, so the gateway's
 * audio clock and VAD keep running and the session is not idle. Full duplex (headsets) passes
 * the microphone through unchanged.
 */
export interface MicGateOptions {
  /** Pass the microphone through even while the agent speaks. */
  fullDuplex: boolean;
  /** How long the microphone stays muted after the speaker last played reply audio (ms). */
  muteTailMs: number;
}

export class MicGate {
  private mutedUntilMs = -Infinity;

  constructor(private readonly options: MicGateOptions) {
    if (!(options.muteTailMs >= 0)) throw new RangeError(`muteTailMs must be >= 0; got ${options.muteTailMs}`);
  }

  /** Tells the gate whether reply audio is playing at `nowMs` (any monotonic clock in ms). */
  speakerPlaying(playing: boolean, nowMs: number): void {
    if (playing) this.mutedUntilMs = Math.max(this.mutedUntilMs, nowMs + this.options.muteTailMs);
  }

  muted(nowMs: number): boolean {
    return !this.options.fullDuplex && nowMs < this.mutedUntilMs;
  }

  /** The microphone chunk to send at `nowMs`: itself, or silence of the same length. */
  pass(pcm: Int16Array, nowMs: number): Int16Array {
    return this.muted(nowMs) ? new Int16Array(pcm.length) : pcm;
  }
}
