/**
 * What a client is told when its resume token is not accepted: one sentence per case, saying what
 * to do. None names the session's state, its owner or its history.
 */
import type { ClaimProblem } from './session-store.js';
import type { TokenProblem } from './resume-token.js';

export type RefusalProblem = TokenProblem | ClaimProblem;

export function refusalMessage(problem: RefusalProblem, windowMs: number): string {
  const fresh = 'start without resume_token for a new conversation';
  switch (problem) {
    case 'forged':
      return `the resume token is not valid: it was not signed by this gateway or it was altered; ${fresh}`;
    case 'expired':
    case 'missing':
      return `the session of this resume token can no longer be resumed: it ended, or more than ${windowMs / 1000} s (RESUME_WINDOW_MS) passed since its connection dropped; ${fresh}`;
    case 'other_subject':
      return 'the resume token was issued to another credential: a session can only be resumed with the key (or JWT subject) that opened it';
    case 'used':
      return 'the resume token was already used: its session is live on the connection that resumed it, and a second connection would split the conversation; send the token of the latest ready';
  }
}

/** A metrics label for each way a resume ends. */
export type ResumeOutcome = 'resumed' | 'restored' | `refused_${'forged' | 'expired' | 'other_subject' | 'used'}` | 'store_unavailable';

export function refusalOutcome(problem: RefusalProblem): ResumeOutcome {
  return problem === 'missing' ? 'refused_expired' : `refused_${problem}`;
}
