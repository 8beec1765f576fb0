/**
 * The turn-taking state machine (docs/architecture.md §4), as a table: read a row as "in this state, on this
 * event, go there". An event missing from a row leaves the state as it is.
 */
export type TurnState = 'listening' | 'user_speaking' | 'thinking' | 'speaking';

export type TurnEvent =
  | 'speech_started' // VAD: the user started talking
  | 'speech_stopped' // VAD: the user stopped talking
  | 'turn_ended' // end of turn (ASR final, VAD silence, commit, or typed text): a reply starts
  | 'first_audio' // the reply's first audio went out
  | 'barge_in' // the user talked over the reply long enough to interrupt it
  | 'response_ended'; // the reply completed, failed, or the client interrupted it

const TRANSITIONS: Record<TurnState, Partial<Record<TurnEvent, TurnState>>> = {
  listening: { speech_started: 'user_speaking', turn_ended: 'thinking' },
  user_speaking: { speech_stopped: 'listening', turn_ended: 'thinking' },
  thinking: { first_audio: 'speaking', barge_in: 'user_speaking', response_ended: 'listening', turn_ended: 'thinking' },
  speaking: { barge_in: 'user_speaking', response_ended: 'listening', turn_ended: 'thinking' },
};

export function nextState(state: TurnState, event: TurnEvent): TurnState {
  return TRANSITIONS[state][event] ?? state;
}

/** The agent holds the floor: user speech here may be a barge-in. */
export function agentHasFloor(state: TurnState): boolean {
  return state === 'thinking' || state === 'speaking';
}
