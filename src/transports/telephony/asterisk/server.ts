/**
 * Asterisk's WebSocket channel on the HTTP port, at ASTERISK_PATH: Asterisk dials the gateway
 * (`Dial(WebSocket/<client>/c(ulaw))` with a websocket_client.conf entry whose uri is this path).
 * The gateway key comes as the websocket_client password (HTTP Basic), a bearer header, or
 * `?key=` through the dial string's v() option, whose other parameters (greeting, instructions,
 * voice, language) set up the call. The guards are those of every WebSocket transport
 * (../../websocket-shared/sessions.ts): the call is admitted once the upgrade is validated, and a
 * channel that sends no MEDIA_START within START_TIMEOUT_MS is closed, as any session with no start.
 */
import type { IncomingMessage } from 'node:http';
import { closeReason } from '../../websocket-shared/close.js';
import { createSessionWebSocketServer, type SessionWebSocketServer } from '../../websocket-shared/sessions.js';
import { CALL_PARAMETERS } from '../call-parameters.js';
import { queryParameters, requestCredential } from '../credential.js';
import { DEFAULT_CLOSE_GRACE_MS, type TelephonyOptions } from '../options.js';
import { serveAsteriskChannel } from './connection.js';

export const ASTERISK_PATH = '/v1/telephony/asterisk';

export function createAsteriskServer(options: TelephonyOptions): SessionWebSocketServer {
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  return createSessionWebSocketServer({
    transport: 'asterisk',
    maxFrameBytes: options.maxMessageBytes,
    oversizeReason: closeReason(`a frame was larger than MAX_MESSAGE_BYTES (${options.maxMessageBytes} bytes)`),
    // websocket_client.conf's `protocols` (e.g. "media") is answered as offered.
    chooseProtocol: (offered) => offered.values().next().value ?? false,
    allowedOrigins: options.allowedOrigins,
    createSession: options.createSession,
    readUpgrade: (request: IncomingMessage) => ({ credential: requestCredential(request), parameters: queryParameters(request, CALL_PARAMETERS) }),
    refuse: 'http', // Asterisk logs the status of a refused upgrade
    serve: (ws, session, upgrade) => serveAsteriskChannel(ws, session, upgrade.parameters, options, closeGraceMs),
    closeGraceMs,
  });
}
