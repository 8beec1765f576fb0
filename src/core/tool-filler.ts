/**
 * Filler while a tool runs: the agent never stays silent longer than TOOL_FILLER_AFTER_MS while it
 * waits for a tool. The first filler comes that long after the audio already queued ends (or
 * after the call started, when nothing is playing), the next ones that long after the previous
 * filler's audio ends, each the next phrase of the language's list (the last one repeats).
 *
 * Phrases are per language (TOOL_FILLER_PHRASES adds or replaces languages); a language with no
 * phrases gets no filler rather than words in a language the user did not choose.
 */

/** Built-in phrases by primary language subtag. */
export const DEFAULT_FILLER_PHRASES: Readonly<Record<string, readonly string[]>> = {
  en: ['One moment.', 'Still working on it.'],
  de: ['Einen Moment.', 'Ich bin noch dabei.'],
  fr: ['Un instant.', "J'y travaille encore."],
  es: ['Un momento.', 'Sigo en ello.'],
  it: ['Un momento.', 'Ci sto ancora lavorando.'],
  pt: ['Um momento.', 'Ainda estou verificando.'],
  nl: ['Een moment.', 'Ik ben er nog mee bezig.'],
};

/** The phrases for a BCP-47 `language`: its own entry, else its primary subtag's, else none. */
export function fillerPhrases(language: string, table: Readonly<Record<string, readonly string[]>>): readonly string[] {
  const tag = language.toLowerCase();
  return table[tag] ?? table[tag.split('-')[0]!] ?? [];
}

/**
 * When the next filler is due (performance.now() ms): `afterMs` after the silence began (the end
 * of the audio already queued, or the last filler), and never before `now`; so a filler never
 * talks over the reply.
 */
export function nextFillerAt(now: number, silentSince: number, afterMs: number): number {
  return Math.max(now, silentSince + afterMs);
}

/**
 * Says a filler whenever the wait for tools has been silent for `afterMs`, until stopped. `speak`
 * queues a phrase in the reply; `audioEndsAt` says when the audio queued so far ends playing.
 */
export class FillerTimer {
  private timer: NodeJS.Timeout | undefined;
  private said = 0;
  private stopped = false;
  /** When the agent last made a sound of its own accord: the wait's start, then each filler. */
  private lastSoundAt = 0;

  constructor(
    private readonly phrases: readonly string[],
    private readonly afterMs: number,
    /** When the audio queued so far ends playing (0 or less: nothing was played). */
    private readonly audioEndsAt: () => number,
    private readonly speak: (text: string) => void,
  ) {}

  start(): void {
    if (this.phrases.length === 0 || this.afterMs <= 0) return;
    this.lastSoundAt = performance.now();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The silence began at the later of the last sound and the end of the queued audio. */
  private silentSince(): number {
    return Math.max(this.lastSoundAt, this.audioEndsAt());
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = performance.now();
    this.timer = setTimeout(() => this.due(), Math.max(0, nextFillerAt(now, this.silentSince(), this.afterMs) - now));
  }

  private due(): void {
    if (this.stopped) return;
    // Audio queued meanwhile (a filler still being synthesized) moves the moment on.
    const now = performance.now();
    if (now - this.silentSince() < this.afterMs - 1) return this.schedule();
    this.speak(this.phrases[Math.min(this.said, this.phrases.length - 1)]!);
    this.said++;
    this.lastSoundAt = now;
    this.schedule();
  }
}
