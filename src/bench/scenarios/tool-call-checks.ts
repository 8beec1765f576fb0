/**
 * The scenario kind "barge_in_during_tool_call" (scenario-kinds.ts): the session offers the LLM a
 * client tool, which the simulated model calls for every question; the caller runs it slowly (its
 * result comes only after the barge-in) and speaks over the reply while the call is pending. What
 * must hold, besides the invariants of every scenario:
 *   - tool_call_cancelled: the pending call is cancelled (reason barge_in), and the slow result
 *     that still comes is acknowledged as ignored (result_ignored);
 *   - tool_history_valid: the LLM never refused a request. The simulated model, like
 *     OpenAI-compatible servers, refuses a history with a tool call and no result (or the reverse),
 *     so every history sent after the cancelled call was valid;
 *   - answers_next_question: the barge-in's own turn gets a completed reply (not deaf, not mute).
 */
import * as pb from '../../gen/voice/v1/voice_pb.js';
import type { Violations } from './invariants.js';
import type { LoggedEvent } from './scenario-client.js';

/** The client tool the scenario offers: its one required string parameter gets the user's words. */
export const SCENARIO_TOOL = {
  name: 'look_up',
  description: 'Looks up what the caller asks about.',
  parametersJson: JSON.stringify({ type: 'object', properties: { query: { type: 'string' } }, required: ['query'] }),
};

export const isCancellation = (callId: string, resultIgnored: boolean) => (e: LoggedEvent) =>
  e.event.case === 'toolCallCancelled' && e.event.value.callId === callId && e.event.value.resultIgnored === resultIgnored;

/** The checks on a scenario's log once it is over: `callId` of reply `responseId` was pending at the barge-in. */
export function toolCallChecks(log: readonly LoggedEvent[], responseId: string, callId: string): Violations {
  const out: Violations = [];
  const cancelled = log.find(isCancellation(callId, false))?.event.value as pb.ToolCallCancelled | undefined;
  if (!cancelled) out.push({ invariant: 'tool_call_cancelled', detail: `call ${callId} of ${responseId} was never cancelled` });
  else if (cancelled.reason !== pb.ToolCancelReason.BARGE_IN) out.push({ invariant: 'tool_call_cancelled', detail: `call ${callId} was cancelled for ${pb.ToolCancelReason[cancelled.reason]}, not barge_in` });
  if (!log.some(isCancellation(callId, true))) out.push({ invariant: 'tool_call_cancelled', detail: `the late result of ${callId} was not acknowledged as ignored` });
  for (const { event } of log) if (event.case === 'error') out.push({ invariant: 'tool_history_valid', detail: `${event.value.message}` });
  const doneAt = log.findIndex((e) => e.event.case === 'responseDone' && e.event.value.responseId === responseId);
  const next = doneAt < 0 ? undefined : log.slice(doneAt).find((e) => e.event.case === 'responseStarted')?.event.value as pb.ResponseStarted | undefined;
  const nextDone = next && log.find((e) => e.event.case === 'responseDone' && e.event.value.responseId === next.responseId)?.event.value as pb.ResponseDone | undefined;
  if (nextDone?.status !== pb.ResponseStatus.COMPLETED) out.push({ invariant: 'answers_next_question', detail: `the barge-in's turn got ${next ? `a reply that ended ${nextDone ? pb.ResponseStatus[nextDone.status] : 'never'}` : 'no reply'}` });
  return out;
}
