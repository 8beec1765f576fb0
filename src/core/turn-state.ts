/**
 * Who has the floor (docs/architecture.md §4), as two tables. The state is never stored: it is
 * read from the two facts that decide it, so it cannot disagree with them (a reply that completes
 * while the user talks leaves `user_speaking`, not `listening`).
 *
 *   - STATE: the reply's phase x whether the user is speaking (VAD) -> the state.
 *   - RULES: what each state allows; the session asks these, never the facts directly.
 */
export type TurnState = 'listening' | 'user_speaking' | 'thinking' | 'speaking';

/** The current reply: none, generating with no audio out yet, or audio going out / being played. */
export type ReplyPhase = 'none' | 'thinking' | 'speaking';

export interface TurnFacts {
  reply: ReplyPhase;
  /** VAD hears the user (between speech_started and speech_stopped). */
  userSpeaking: boolean;
}

const STATE: Record<ReplyPhase, { silent: TurnState; speaking: TurnState }> = {
  none: { silent: 'listening', speaking: 'user_speaking' },
  thinking: { silent: 'thinking', speaking: 'thinking' }, // user speech here is a barge-in candidate, not a turn
  speaking: { silent: 'speaking', speaking: 'speaking' },
};

export interface TurnRules {
  /** The agent holds the floor: recognizer words are echo or noise unless the user barges in. */
  agentHasFloor: boolean;
  /** User speech long enough (BARGE_IN_MIN_SPEECH_MS) interrupts the reply. */
  bargeInPossible: boolean;
  /** VAD silence may end the user's turn. */
  vadMayEndTurn: boolean;
}

const RULES: Record<TurnState, TurnRules> = {
  listening: { agentHasFloor: false, bargeInPossible: false, vadMayEndTurn: true },
  user_speaking: { agentHasFloor: false, bargeInPossible: false, vadMayEndTurn: true },
  thinking: { agentHasFloor: true, bargeInPossible: true, vadMayEndTurn: false },
  speaking: { agentHasFloor: true, bargeInPossible: true, vadMayEndTurn: false },
};

export function turnState(facts: TurnFacts): TurnState {
  return STATE[facts.reply][facts.userSpeaking ? 'speaking' : 'silent'];
}

export function turnRules(state: TurnState): TurnRules {
  return RULES[state];
}
