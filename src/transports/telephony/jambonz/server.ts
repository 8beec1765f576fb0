/**
 * jambonz on the HTTP port: the `listen` stream at JAMBONZ_STREAM_PATH (WebSocket, subprotocol
 * audio.jambonz.org) and the application webhook at JAMBONZ_HOOK_PATH, which answers a call with
 * the verbs that connect it to that stream (`listen`, bidirectional streaming, DTMF passed, then
 * `hangup`), so a jambonz application needs one setting: its calling webhook. The webhook URL's
 * query parameters a call may set (greeting, instructions, voice, language, and the gateway key)
 * go on to the stream URL, where the upgrade reads them like Asterisk's (`?key=`, or a bearer or
 * Basic header). The guards are those of every WebSocket transport (../../websocket-shared/sessions.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeReason } from '../../websocket-shared/close.js';
import { createSessionWebSocketServer, type SessionWebSocketServer } from '../../websocket-shared/sessions.js';
import { CALL_PARAMETERS } from '../call-parameters.js';
import { queryParameters, requestCredential } from '../credential.js';
import { forwardedParameters, publicHost } from '../webhook-request.js';
import { DEFAULT_CLOSE_GRACE_MS, type TelephonyOptions } from '../options.js';
import { serveJambonzStream } from './connection.js';

export const JAMBONZ_STREAM_PATH = '/v1/telephony/jambonz';
export const JAMBONZ_HOOK_PATH = '/v1/telephony/jambonz/hook';
const SUBPROTOCOL = 'audio.jambonz.org';
/** The rate the webhook asks jambonz to stream at, both ways: the telephone band, as the call is. */
const LISTEN_RATE_HZ = 8000;

export interface JambonzServer extends SessionWebSocketServer {
  hook: (request: IncomingMessage, response: ServerResponse) => void;
}

export function createJambonzServer(options: TelephonyOptions): JambonzServer {
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  const streams = createSessionWebSocketServer({
    transport: 'jambonz',
    maxFrameBytes: options.maxMessageBytes,
    oversizeReason: closeReason(`a frame was larger than MAX_MESSAGE_BYTES (${options.maxMessageBytes} bytes)`),
    chooseProtocol: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    allowedOrigins: options.allowedOrigins,
    createSession: options.createSession,
    readUpgrade: (request: IncomingMessage) => ({ credential: requestCredential(request), parameters: queryParameters(request, CALL_PARAMETERS) }),
    refuse: 'http',
    serve: (ws, session, upgrade) => serveJambonzStream(ws, session, upgrade.parameters, options, closeGraceMs),
    closeGraceMs,
  });
  return { ...streams, hook: (request, response) => answerCall(request, response, options) };
}

/** The verbs for a new call (jambonz POSTs its call details; GET works too): listen, then hang up. */
function answerCall(request: IncomingMessage, response: ServerResponse, options: TelephonyOptions): void {
  request.resume(); // the call details are not needed: the stream's metadata carries them
  if (request.method !== 'POST' && request.method !== 'GET') {
    response.writeHead(405, { allow: 'GET, POST', 'content-type': 'text/plain' }).end('use POST (jambonz\'s default) or GET\n');
    return;
  }
  const forwarded = new URLSearchParams(forwardedParameters(request));
  const url = `${streamScheme(request, options)}://${publicHost(request, options)}${JAMBONZ_STREAM_PATH}${forwarded.size > 0 ? `?${forwarded.toString()}` : ''}`;
  const verbs = [
    { verb: 'listen', url, sampleRate: LISTEN_RATE_HZ, mixType: 'mono', passDtmf: true, bidirectionalAudio: { enabled: true, streaming: true, sampleRate: LISTEN_RATE_HZ } },
    { verb: 'hangup' },
  ];
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(verbs));
}

/** wss when TELEPHONY_PUBLIC_URL is https, else when the request came over TLS (the gateway's or an ingress's). */
function streamScheme(request: IncomingMessage, options: TelephonyOptions): 'ws' | 'wss' {
  const { publicUrl, tls } = options.signatures;
  const secure = publicUrl ? new URL(publicUrl).protocol === 'https:' : tls || request.headers['x-forwarded-proto'] === 'https';
  return secure ? 'wss' : 'ws';
}
