/**
 * A call over a WebSocket (Twilio Media Streams, Asterisk chan_websocket): the session's events go
 * out through the shared sink (../websocket-shared/sink.ts), and the socket closes with the code
 * and reason of the session's end; the carrier closing the socket is the caller hanging up.
 */
import type { WebSocket } from 'ws';
import { CLOSE, closeCodeFor, closeWithin } from '../websocket-shared/close.js';
import { webSocketSink } from '../websocket-shared/sink.js';
import type { TelephonyCall } from './telephony-call.js';

/** Runs `call` over `ws` until either ends; `ended` runs once the session's events are done. */
export function runCallOverWebSocket(ws: WebSocket, call: TelephonyCall, closeGraceMs: number, ended: () => void = () => undefined): void {
  const { session } = call;
  ws.on(
    'close',
    session.bind(() => {
      ended();
      if (call.started) call.callerHungUp('the carrier closed the stream');
      else session.close('the carrier closed the stream before it started', 'client_gone');
    }),
  );
  pump(ws, call, closeGraceMs, ended).catch((error: unknown) => {
    session.fail(error);
    closeWithin(ws, CLOSE.internalError, 'internal error: the call was closed', closeGraceMs);
  });
}

async function pump(ws: WebSocket, call: TelephonyCall, closeGraceMs: number, ended: () => void): Promise<void> {
  const { session } = call;
  const end = await call.pump(
    webSocketSink(ws, (event) => call.frames(event)),
    closeGraceMs,
  );
  ended();
  if (end.kind === 'gone') return;
  if (end.kind === 'stuck') return closeWithin(ws, CLOSE.policyViolation, session.closeReason ?? 'the carrier stopped reading', closeGraceMs);
  closeWithin(ws, closeCodeFor(end.last, session.closeCause), session.closeReason ?? 'the call ended', closeGraceMs);
}
