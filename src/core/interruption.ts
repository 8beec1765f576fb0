/**
 * Pause first, then decide (interruption_mode "pause"): user speech while the agent speaks pauses
 * the reply, and this decides what the speech was, from what the recognizer hears in it:
 *   - words, at least `minWords` and not only backchannel ("uh-huh", "yeah": backchannel.ts):
 *     a real barge-in, the reply is interrupted as in "immediate" mode;
 *   - no such words, and the speech has stopped: a false interruption, the reply resumes. It
 *     resumes at once when the recognizer's final for the speech came and was not a barge-in
 *     (nothing more will come), else `falseTimeoutMs` after the speech stopped.
 * A pure state machine: the session feeds it events with their times and acts on the verdicts.
 */
import { classifyWords } from './backchannel.js';

export type InterruptionVerdict = 'undecided' | 'barge_in' | 'false_interruption';

export interface InterruptionSettings {
  /** Words (not all backchannel) that make the speech an interruption; at least 1. */
  minWords: number;
  /** After the speech stops, a paused reply resumes when no such words came within this (ms). */
  falseTimeoutMs: number;
  /** The session's language, for its backchannel list. */
  language: string;
}

export class InterruptionDecision {
  private speaking = true;
  private stoppedAt: number | null = null;
  /** The recognizer ended the utterance (a final) since the speech last started. */
  private finalHeard = false;
  private verdict: InterruptionVerdict = 'undecided';

  constructor(private readonly settings: InterruptionSettings) {}

  get decided(): InterruptionVerdict {
    return this.verdict;
  }

  /** A transcript of the speech since the pause (partial, stable or final). */
  onTranscript(text: string, final: boolean, now: number): InterruptionVerdict {
    if (this.verdict !== 'undecided') return this.verdict;
    const { words, onlyBackchannel } = classifyWords(text, this.settings.language);
    if (words >= Math.max(1, this.settings.minWords) && !onlyBackchannel) return (this.verdict = 'barge_in');
    if (final) this.finalHeard = true;
    return this.check(now);
  }

  onSpeechStarted(): void {
    if (this.verdict !== 'undecided') return;
    this.speaking = true;
    this.stoppedAt = null;
    this.finalHeard = false;
  }

  onSpeechStopped(now: number): InterruptionVerdict {
    if (this.verdict !== 'undecided') return this.verdict;
    this.speaking = false;
    this.stoppedAt = now;
    return this.check(now);
  }

  /** When (same clock as `now`) to call `check` if nothing else happens; null while the user speaks. */
  get deadline(): number | null {
    if (this.verdict !== 'undecided' || this.speaking || this.stoppedAt === null) return null;
    return this.stoppedAt + this.settings.falseTimeoutMs;
  }

  check(now: number): InterruptionVerdict {
    if (this.verdict !== 'undecided' || this.speaking || this.stoppedAt === null) return this.verdict;
    if (this.finalHeard || now >= this.stoppedAt + this.settings.falseTimeoutMs) this.verdict = 'false_interruption';
    return this.verdict;
  }
}
