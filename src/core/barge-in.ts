/**
 * What user speech does while the agent holds the floor, by the session's `interruption_mode`:
 *   - immediate: `barge_in_min_speech_ms` of speech interrupts the reply at once;
 *   - pause: that speech pauses the reply (response_paused) and ./interruption.ts decides from
 *     the recognizer's words: a real barge-in interrupts it as above, a false interruption (no
 *     words, or only backchannel, within `false_interruption_timeout_ms` after the speech)
 *     resumes it from the played position (response_unpaused).
 * The session forwards listening's hooks here; the replies' owner does the pausing.
 */
import type { SessionSettings } from './events.js';
import { InterruptionDecision, type InterruptionVerdict } from './interruption.js';

/** What it needs from the session. */
export interface BargeInHost {
  settings(): SessionSettings;
  /** The floor's rules allow a barge-in now (./turn-state.ts). */
  bargeInPossible(): boolean;
  /** Interrupts the current reply (user speech that started at `speechStartAt`). */
  bargeIn(speechStartAt: number): void;
  /** Pauses the current reply; its id, or null when there is none to pause. */
  pause(): string | null;
  resume(responseId: string): void;
  /** Aborted when the session closes: nothing more is decided. */
  closed?: AbortSignal;
}

export class BargeIn {
  /** The paused reply and the decision about the speech that paused it. */
  private paused: { responseId: string; decision: InterruptionDecision; speechStartAt: number } | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: BargeInHost) {
    host.closed?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** The user has been speaking `speechMs` (since `speechStartAt`) while the agent holds the floor. */
  speech(speechMs: number, speechStartAt: number): void {
    const { turn, language } = this.host.settings();
    if (!turn.bargeInEnabled || this.paused || !this.host.bargeInPossible() || speechMs < Math.max(turn.bargeInMinSpeechMs, 1)) return;
    if (turn.interruptionMode === 'immediate') return this.host.bargeIn(speechStartAt);
    const responseId = this.host.pause();
    if (!responseId) return;
    const decision = new InterruptionDecision({ minWords: turn.bargeInMinWords, falseTimeoutMs: turn.falseInterruptionTimeoutMs, language });
    this.paused = { responseId, decision, speechStartAt };
  }

  speechStarted(): void {
    clearTimeout(this.timer);
    this.paused?.decision.onSpeechStarted();
  }

  speechStopped(): void {
    const paused = this.paused;
    if (!paused) return;
    this.act(paused.decision.onSpeechStopped(performance.now()));
    this.scheduleCheck();
  }

  /** A check at the decision's deadline (again if a timer fired a little early: timers may). */
  private scheduleCheck(): void {
    const deadline = this.paused?.decision.deadline;
    clearTimeout(this.timer);
    if (deadline == null) return;
    this.timer = setTimeout(() => {
      if (!this.paused) return;
      this.act(this.paused.decision.check(performance.now()));
      this.scheduleCheck();
    }, Math.max(1, Math.ceil(deadline - performance.now())));
  }

  /** What the recognizer heard while the agent holds the floor. */
  transcript(text: string, final: boolean): void {
    if (this.paused) this.act(this.paused.decision.onTranscript(text, final, performance.now()));
  }

  close(): void {
    clearTimeout(this.timer);
    this.paused = null;
  }

  private act(verdict: InterruptionVerdict): void {
    const paused = this.paused;
    if (!paused || verdict === 'undecided') return;
    this.close();
    if (verdict === 'barge_in') this.host.bargeIn(paused.speechStartAt);
    else this.host.resume(paused.responseId);
  }
}
