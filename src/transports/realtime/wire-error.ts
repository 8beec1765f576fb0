/**
 * Realtime `error` events: `{type: 'error', event_id, error: {type, code, message, param,
 * event_id}}`, where error.event_id names the client event at fault. Problems this transport finds
 * in a frame are WireErrors; the core's errors are mapped by their stable code and reason.
 */
import type { z } from 'zod';
import type { ErrorCode, ErrorReason } from '../../core/events.js';

export type WireErrorType = 'invalid_request_error' | 'server_error';

export class WireError extends Error {
  constructor(
    readonly type: WireErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

/** An invalid value, named by its path in the event (`session.audio.input.format.type`). */
export function invalidValue(param: string, message: string): WireError {
  return new WireError('invalid_request_error', 'invalid_value', message, param);
}

/** The first problem zod found, as a WireError naming its parameter. */
export function zodProblem(error: z.ZodError, root: string): WireError {
  const issue = error.issues[0];
  const param = [root, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  const code = issue?.code === 'invalid_type' && issue.input === undefined ? 'missing_required_parameter' : 'invalid_value';
  const message = issue ? `${param}: ${issue.message}` : `${root} is not valid`;
  return new WireError('invalid_request_error', code, message, param);
}

/** The Realtime codes of the core's finer reasons (the names OpenAI's API uses where it has one). */
const REASON_CODE: Record<ErrorReason, string> = {
  input_empty: 'input_audio_buffer_commit_empty',
  nothing_heard: 'input_audio_buffer_commit_empty',
  response_in_progress: 'conversation_already_has_active_response',
  no_response: 'response_cancel_not_active',
  item_not_found: 'item_not_found',
  item_exists: 'item_already_exists',
  not_truncatable: 'invalid_value',
  audio_end_out_of_range: 'invalid_value',
};

const CODE_OF: Record<ErrorCode, [WireErrorType, string]> = {
  invalid_argument: ['invalid_request_error', 'invalid_value'],
  failed_precondition: ['invalid_request_error', 'invalid_request'],
  unauthenticated: ['invalid_request_error', 'invalid_api_key'],
  resource_exhausted: ['invalid_request_error', 'resource_exhausted'],
  asr_unavailable: ['server_error', 'asr_unavailable'],
  llm_unavailable: ['server_error', 'llm_unavailable'],
  tts_unavailable: ['server_error', 'tts_unavailable'],
  internal: ['server_error', 'internal_error'],
  unavailable: ['server_error', 'server_shutting_down'],
  resume_refused: ['invalid_request_error', 'resume_refused'],
  reconnect_to_resume: ['server_error', 'server_shutting_down_reconnect_to_resume'],
};

/** A core error as a WireError; `param` when the transport knows which field it concerns. */
export function fromCore(code: ErrorCode, message: string, reason: ErrorReason | undefined, param: string | null = null): WireError {
  const [type, wireCode] = CODE_OF[code];
  return new WireError(type, reason ? REASON_CODE[reason] : wireCode, message, param);
}

/** The `error` object of an error event. */
export function errorBody(error: WireError, clientEventId: string | undefined): Record<string, unknown> {
  return { type: error.type, code: error.code, message: error.message, param: error.param, event_id: clientEventId ?? null };
}
