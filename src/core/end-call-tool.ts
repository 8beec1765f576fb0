/**
 * The built-in `end_call` tool: the agent hangs up a phone call. It is offered only to sessions
 * whose transport can hang up and said so at `start` (`endCallTool`: the telephony transports,
 * unless TELEPHONY_END_CALL_TOOL=false); gRPC, WebSocket and Realtime sessions never see it.
 *
 * What a call does: the reply ends at it (no further LLM round), its words said before the call
 * are played to the end, and the reply's `response_done` carries `endsCall`; the transport then
 * hangs up with its protocol's signal once that audio has been heard. If the caller talks over
 * the goodbye (barge-in), or the reply is otherwise interrupted, the hang-up is cancelled: the
 * caller had something more to say, and hanging up on them would lose it. The call's result in
 * the history then says so, so that the model knows the call goes on.
 */
import type { ToolSpec } from '../providers/types.js';
import type { ResponseStatus } from './events.js';
import type { ConversationHistory } from './history.js';
import type { ToolCallRecord } from './tool-rounds.js';

export const END_CALL_TOOL_NAME = 'end_call';

/** The longest reason kept (it reaches the log line of the hang-up). */
const REASON_MAX_CHARS = 200;

export const END_CALL_TOOL: ToolSpec = {
  name: END_CALL_TOOL_NAME,
  description:
    'Hang up the phone call. Call it only when the conversation is over (the caller said goodbye, or asked to end the call), after you have said goodbye in the same reply; call it alone, not with other tools. The caller hears what you said first, then the call ends.',
  parameters: {
    type: 'object',
    properties: { reason: { type: 'string', maxLength: REASON_MAX_CHARS, description: 'Why the call ends, in a few words (for the logs)' } },
    additionalProperties: false,
  },
};

/** The call's result while its reply plays: what the model reads if the call ended as planned. */
export const END_CALL_ACCEPTED = 'The call ends once the caller has heard what you said.';
/** The result once the caller interrupted the goodbye. */
export const END_CALL_CANCELLED = 'The call was not ended: the caller spoke during your goodbye, so the call goes on. Listen to them; call end_call again when the conversation is over.';
/** The result when the model called it together with other tools. */
export const END_CALL_NOT_ALONE = 'Error: end_call must be called alone, after the other tools have answered. Say goodbye, then call end_call by itself.';

/** A reply that called end_call: what the hang-up and the history need once it ends. */
export interface EndCallRequest {
  reason: string;
  callId: string;
  /** The output item of the call, rewritten if the hang-up is cancelled. */
  outputItemId: string;
}

/** The reason the model gave (arguments already checked against the schema). */
export function endCallReason(args: Record<string, unknown> | undefined): string {
  const reason = args?.reason;
  return typeof reason === 'string' ? reason.trim().slice(0, REASON_MAX_CHARS) : '';
}

/**
 * A reply that called end_call ended with `status`: what its `response_done` says (`endsCall`),
 * or, when the hang-up is cancelled (interrupted), nothing, with the call's result and record
 * rewritten to say so. A failed reply (e.g. TTS down) still ends the call: the agent decided the
 * conversation is over, and a caller who cannot hear the agent gains nothing from staying on.
 */
export function settleEndCall(
  request: EndCallRequest | undefined,
  status: ResponseStatus,
  history: Pick<ConversationHistory, 'setText'>,
  records: readonly ToolCallRecord[],
): { reason: string } | undefined {
  if (!request) return undefined;
  if (status !== 'interrupted') return { reason: request.reason };
  history.setText(request.outputItemId, END_CALL_CANCELLED);
  const record = records.find((r) => r.callId === request.callId);
  if (record) record.outcome = 'cancelled';
  return undefined;
}
