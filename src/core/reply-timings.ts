/** The moments of a reply (./reply.ts), for its turn's metrics and traces. */

/** Moments of the reply (performance.now() ms) from which the turn metrics are computed. */
export interface ReplyTimings {
  llmRequestAt?: number;
  llmFirstTokenAt?: number;
  llmFirstPieceAt?: number;
  ttsFirstRequestAt?: number;
  ttsFirstAudioAt?: number;
  firstAudioSentAt?: number;
  /** The LLM stream ended (done, aborted or failed). */
  llmDoneAt?: number;
  /** One entry per piece sent to TTS, in order (for traces). */
  ttsPieces?: TtsPieceTimings[];
}

export interface TtsPieceTimings {
  text: string;
  requestAt: number;
  firstAudioAt?: number;
  doneAt?: number;
  audioMs: number;
}
