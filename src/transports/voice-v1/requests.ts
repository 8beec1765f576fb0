/**
 * The inbound half every voice.v1 transport shares: bytes -> ConverseRequest -> the session. A
 * message that does not parse, or carries no event, is answered with an `error` event and the
 * session goes on, whichever transport it came through.
 */
import { fromBinary } from '@bufbuild/protobuf';
import type { SessionPort } from '../../core/session-port.js';
import { ConverseRequestSchema, type ConverseRequest } from '../../gen/voice/v1/voice_pb.js';
import { toClientEvent } from './proto-mapping.js';

/** A request that did not parse: kept as a value so the session can answer it with an `error`. */
export type Decoded = { ok: true; request: ConverseRequest } | { ok: false; reason: string };

export function decodeRequest(bytes: Uint8Array): Decoded {
  try {
    return { ok: true, request: fromBinary(ConverseRequestSchema, bytes) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Hands one decoded request to the session; never throws. */
export function deliverRequest(session: SessionPort, decoded: Decoded): void {
  if (!decoded.ok) {
    session.rejectMessage(`the message is not a valid voice.v1.ConverseRequest (${decoded.reason})`);
    return;
  }
  let event: ReturnType<typeof toClientEvent>;
  try {
    event = toClientEvent(decoded.request);
  } catch (error) {
    // A field the mapping cannot read (a tool's parameters_json that is not JSON): said, not thrown.
    session.rejectMessage(error instanceof Error ? error.message : String(error));
    return;
  }
  if (event) session.handle(event);
  else session.rejectMessage('the ConverseRequest has no event set: set one of start, audio, text, commit, interrupt, playback, update, tool_result');
}
