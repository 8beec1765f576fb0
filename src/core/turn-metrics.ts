/** Per-turn latencies (docs/architecture.md §6) from the moments a turn and its reply recorded. */
import type { ResponseStatus, SpeculativeOutcome, TurnMetrics } from './events.js';
import type { HistoryTrimmed } from './history.js';
import type { ReplyEnd, ReplyTimings } from './reply.js';
import type { ToolCallRecord } from './tool-rounds.js';

/** Moments of the user's turn, in performance.now() ms. */
export interface TurnTimings {
  /** VAD heard the user start speaking. */
  speechStartAt?: number;
  /** The last audio frame that VAD judged voiced (the end of speech). */
  speechEndAt?: number;
  asrFinalAt?: number;
  /** The end of turn was decided (or the typed text arrived). */
  turnEndedAt?: number;
  speculative?: SpeculativeOutcome;
}

function span(from: number | undefined, to: number | undefined): number | undefined {
  return from === undefined || to === undefined ? undefined : Math.max(0, Math.round(to - from));
}

export function turnMetrics(turnId: string, responseId: string, turn: TurnTimings, reply: ReplyTimings): TurnMetrics {
  return {
    turnId,
    responseId,
    eouDelayMs: span(turn.speechEndAt, turn.turnEndedAt),
    asrFinalMs: span(turn.speechEndAt, turn.asrFinalAt),
    llmTtftMs: span(reply.llmRequestAt, reply.llmFirstTokenAt),
    llmFirstPieceMs: span(reply.llmRequestAt, reply.llmFirstPieceAt),
    ttsTtfbMs: span(reply.ttsFirstRequestAt, reply.ttsFirstAudioAt),
    voiceToVoiceMs: span(turn.speechEndAt ?? turn.turnEndedAt, reply.firstAudioSentAt),
    speculative: turn.speculative ?? 'none',
  };
}

/**
 * Everything observers (metrics, traces, logs) learn about a finished turn, once, when its reply
 * ended: the moments recorded on the way, so spans and histograms are built off the audio path.
 */
export interface TurnReport {
  metrics: TurnMetrics;
  status: ResponseStatus;
  turn: TurnTimings;
  reply: ReplyTimings;
  /** User speech that interrupted the reply: when it started and when it counted as barge-in. */
  bargeIn?: { speechStartAt: number; detectedAt: number };
  /** The reply ended (response_done), in performance.now() ms. */
  endedAt: number;
  /** What the user said and what of the reply was heard: for observers allowed to keep text. */
  userText: string;
  heardText: string;
  audioSentMs: number;
  /** How it ended: interrupted by whom, or the error that failed it (retryable or not). */
  end?: ReplyEnd;
  /** The oldest turns were left out of its LLM request to fit LLM_CONTEXT_TOKENS. */
  historyTrimmed?: HistoryTrimmed;
  /** The tools the reply called, each with its outcome and times. */
  toolCalls?: readonly ToolCallRecord[];
}
