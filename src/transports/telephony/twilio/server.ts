/**
 * Twilio Media Streams on the HTTP port: the stream at TWILIO_STREAM_PATH (WebSocket) and the
 * TwiML webhook at TWIML_PATH. Fonoster (protocol "twilio"), SignalWire and Telnyx streams speak
 * the same messages and use the same path (README, "Phone calls", says where they differ).
 *
 * The stream has the guards of every WebSocket transport (../../websocket-shared/sessions.ts):
 * the Origin check, bounded frames, admission once the upgrade is validated. A carrier signature
 * (X-Twilio-Signature, x-fonoster-signature) is checked before the handshake: a wrong one is an
 * HTTP 403 and no audio is ever read; a valid one admits the call. Without one, the gateway's key
 * applies: from the upgrade's headers or query (SignalWire's bearer token), else from the `key`
 * parameter of the stream's `start` (Twilio's stream URL may carry no query string), in which
 * case the call is admitted at `start`.
 */
import type { IncomingMessage } from 'node:http';
import type { RouteHandler } from '../../http/server.js';
import { closeReason } from '../../websocket-shared/close.js';
import { createSessionWebSocketServer, type SessionWebSocketServer } from '../../websocket-shared/sessions.js';
import { checkCarrierSignature } from '../carrier-signatures.js';
import { requestCredential } from '../credential.js';
import { DEFAULT_CLOSE_GRACE_MS, type TelephonyOptions } from '../options.js';
import { serveTwilioStream } from './connection.js';
import { twimlHandler } from './twiml.js';

export const TWILIO_STREAM_PATH = '/v1/telephony/twilio';
export const TWIML_PATH = '/v1/telephony/twilio/twiml';

export interface TwilioServer extends SessionWebSocketServer {
  twiml: RouteHandler;
}

export function createTwilioServer(options: TelephonyOptions): TwilioServer {
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  const streams = createSessionWebSocketServer({
    transport: 'twilio',
    maxFrameBytes: options.maxMessageBytes,
    oversizeReason: closeReason(`a frame was larger than MAX_MESSAGE_BYTES (${options.maxMessageBytes} bytes)`),
    chooseProtocol: () => false,
    allowedOrigins: options.allowedOrigins,
    createSession: options.createSession,
    readUpgrade: (request) => readStreamUpgrade(request, options),
    refuse: 'http', // a carrier logs the status of a refused upgrade
    serve: (ws, session) => serveTwilioStream(ws, session, options, closeGraceMs),
    admitLater: {
      when: (upgrade) => upgrade.credential === undefined && upgrade.verified === undefined,
      startTimeoutMs: options.startTimeoutMs,
      serve: (ws, _upgrade, admit) => serveTwilioStream(ws, admit, options, closeGraceMs),
    },
    closeGraceMs,
  });
  return {
    upgrade: streams.upgrade,
    get connections() {
      return streams.connections;
    },
    close: () => streams.close(),
    twiml: twimlHandler(TWILIO_STREAM_PATH, options),
  };
}

/** The carrier's signature, checked before anything is read, or the gateway key the upgrade carries. */
function readStreamUpgrade(request: IncomingMessage, options: TelephonyOptions) {
  const check = checkCarrierSignature(request, 'ws', options.signatures);
  if (check.kind === 'invalid' || (check.kind === 'absent' && options.signatureRequired)) {
    const why = check.kind === 'invalid' ? check.message : 'this gateway takes only signed streams: the X-Twilio-Signature (or x-fonoster-signature) header is missing';
    options.log.warn({ transport: 'twilio', client: request.socket.remoteAddress }, `stream refused: ${why}`);
    return { forbidden: why };
  }
  return { credential: requestCredential(request), verified: check.kind === 'verified' ? { principal: `carrier:${check.principal}` } : undefined };
}
