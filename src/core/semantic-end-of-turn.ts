/**
 * End of turn by a semantic model (end_of_turn_source "smart_turn"). The listening side reports
 * the silence after the user's speech as it grows (audio time) and new speech; this asks the model
 * (TurnEndModel, through `ask`) and decides:
 *   - at `silenceMs` of silence it asks: "complete" (probability >= threshold) ends the turn now;
 *   - "incomplete" waits, and it asks again as the silence grows, at 2×, 4×, 8×... `silenceMs`
 *     (the model hears the longer pause; a question costs tens of ms of CPU, so not every frame);
 *   - at `maxSilenceMs` the turn ends whatever the model said, and also when the model fails
 *     (the failure is reported once; no more questions this turn).
 * New speech withdraws a question in flight (its answer is about audio that is no longer the end
 * of the turn) and starts over. `onAsked` hears each question as it is asked (speculative start
 * begins the early reply there: ./speculation.ts). One instance per user turn.
 */
import type { TurnEndPrediction } from '../providers/types.js';

export interface SemanticEndOfTurnSettings {
  silenceMs: number;
  maxSilenceMs: number;
  /** Probability at or above which the model's "complete" ends the turn. */
  threshold: number;
}

export type EndOfTurnDecision =
  | { kind: 'end'; why: 'complete'; probability: number; questions: number; decisionMs: number; computeMs: number }
  | { kind: 'end'; why: 'max_silence'; questions: number }
  | { kind: 'model_failed'; error: unknown };

export class SemanticEndOfTurn {
  private nextQuestionAtMs: number;
  private question: AbortController | null = null;
  private questions = 0;
  private modelFailed = false;
  private ended = false;

  constructor(
    private readonly settings: SemanticEndOfTurnSettings,
    /** Asks the model about the turn's audio so far. */
    private readonly ask: (signal: AbortSignal) => Promise<TurnEndPrediction>,
    private readonly onDecision: (decision: EndOfTurnDecision) => void,
    private readonly onAsked: () => void = () => undefined,
  ) {
    this.nextQuestionAtMs = settings.silenceMs;
  }

  /** The user has been silent this long (ms of audio) since their last speech. */
  onSilence(silenceMs: number): void {
    if (this.ended) return;
    if (silenceMs >= this.settings.maxSilenceMs) return this.end({ kind: 'end', why: 'max_silence', questions: this.questions });
    if (this.question || this.modelFailed || silenceMs < this.nextQuestionAtMs) return;
    this.nextQuestionAtMs = Math.max(silenceMs, this.nextQuestionAtMs) * 2;
    this.startQuestion();
  }

  /** The user speaks again: a question in flight is withdrawn, the next comes after the next silence. */
  onSpeech(): void {
    if (this.ended) return;
    this.question?.abort();
    this.question = null;
    this.nextQuestionAtMs = this.settings.silenceMs;
  }

  /** The turn ended another way (commit, cleared): nothing more is asked or decided. */
  cancel(): void {
    this.ended = true;
    this.question?.abort();
    this.question = null;
  }

  private startQuestion(): void {
    const question = new AbortController();
    this.question = question;
    this.questions++;
    const askedAt = performance.now();
    this.onAsked();
    this.ask(question.signal).then(
      (prediction) => {
        if (this.question !== question) return; // withdrawn: new speech came
        this.question = null;
        if (prediction.probability >= this.settings.threshold) {
          const decisionMs = performance.now() - askedAt;
          this.end({ kind: 'end', why: 'complete', probability: prediction.probability, questions: this.questions, decisionMs, computeMs: prediction.computeMs });
        }
      },
      (error: unknown) => {
        if (this.question !== question) return;
        this.question = null;
        this.modelFailed = true;
        if (!this.ended) this.onDecision({ kind: 'model_failed', error });
      },
    );
  }

  private end(decision: EndOfTurnDecision): void {
    this.cancel();
    this.onDecision(decision);
  }
}
