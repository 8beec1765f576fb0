/**
 * The WebSocket transport, for browsers: voice.v1 on the HTTP port, one binary Protobuf message
 * per frame (a ConverseRequest in, a ConverseResponse out), so a browser speaks the same contract
 * as a gRPC client, with code generated from the same .proto. It maps frames onto the core's
 * events through the shared voice.v1 mapping and adds no conversation logic of its own.
 *
 * Close codes tell a browser what happened (./close-codes.ts): 1000 the session ended, 1001 the
 * gateway is going away, 1008 a limit was broken (a client that stopped reading, an idle or too
 * long session), 1009 a frame over MAX_MESSAGE_BYTES, 1011 an internal error, 1013 no session
 * could be opened now. Problems that leave the session usable (a text frame, bytes that are not a
 * ConverseRequest) are answered with an `error` event and the socket stays open.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { toBinary } from '@bufbuild/protobuf';
import type { WebSocket, RawData } from 'ws';
import type { SessionPort } from '../../core/session-port.js';
import { ConverseResponseSchema } from '../../gen/voice/v1/voice_pb.js';
import { pumpEvents } from '../event-pump.js';
import { toResponse } from '../voice-v1/proto-mapping.js';
import { decodeRequest, deliverRequest } from '../voice-v1/requests.js';
import { bearerToken, type SessionFactory } from '../session-factory.js';
import { CLOSE, closeCodeFor, closeReason, closeWithin } from '../websocket-shared/close.js';
import { webSocketSink } from '../websocket-shared/sink.js';
import { createSessionWebSocketServer } from '../websocket-shared/sessions.js';

/** Where browsers connect on the HTTP port. */
export const VOICE_WEBSOCKET_PATH = '/v1/voice';
/** The subprotocol of this contract; a server that accepts the socket answers with it. */
export const VOICE_SUBPROTOCOL = 'voice.v1';
/**
 * Browsers cannot set headers on a WebSocket, so they may carry the API key (or token) as a
 * second offered subprotocol `voice-gateway-key.<key>`; it is never echoed back.
 */
export const KEY_SUBPROTOCOL_PREFIX = 'voice-gateway-key.';

/** How long a closing client gets to take its last frames and the close frame before it is cut off. */
const DEFAULT_CLOSE_GRACE_MS = 10_000;

const TEXT_FRAME_MESSAGE =
  'a text frame came where a binary frame was expected: send each voice.v1.ConverseRequest as one binary WebSocket frame (Protobuf bytes)';

export interface VoiceWebSocketOptions {
  /** Largest frame a client may send (MAX_MESSAGE_BYTES); a bigger one closes the socket with 1009. */
  maxMessageBytes: number;
  /**
   * Makes a session for a new socket, or refuses it: the socket then closes with 1008
   * (unauthenticated) or 1013 (a limit, or draining: try again later) and the reason.
   */
  createSession: SessionFactory;
  /** Origins of web pages allowed besides the gateway's own (ALLOWED_ORIGINS). */
  allowedOrigins?: readonly string[];
  /** How long a client still behind on reading gets once its session ended (default 10 s). */
  closeGraceMs?: number;
}

export interface VoiceWebSocketServer {
  /** The HTTP upgrade handler to register for VOICE_WEBSOCKET_PATH. */
  upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Closes every socket (1001), cutting off those that do not answer within a second. */
  close(): Promise<void>;
}

export function createVoiceWebSocketServer(options: VoiceWebSocketOptions): VoiceWebSocketServer {
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  // Refusals complete the handshake and close with a reason: a browser can read that, not a status.
  return createSessionWebSocketServer({
    transport: 'websocket',
    maxFrameBytes: options.maxMessageBytes,
    oversizeReason: closeReason(`a frame was larger than MAX_MESSAGE_BYTES (${options.maxMessageBytes} bytes): send audio in smaller chunks`),
    // Answer with the contract's name if offered; a key protocol is never chosen (or echoed).
    chooseProtocol: (offered) => (offered.has(VOICE_SUBPROTOCOL) ? VOICE_SUBPROTOCOL : false),
    allowedOrigins: options.allowedOrigins ?? [],
    createSession: options.createSession,
    readUpgrade: (request) => ({ credential: credentialOf(request) }),
    refuse: 'close',
    serve: (ws, session) => serve(ws, session, closeGraceMs),
    closeGraceMs,
  });
}

/** `authorization: Bearer <key>`, `x-api-key: <key>`, or the key subprotocol (browsers). */
function credentialOf(request: IncomingMessage): string | undefined {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const offered = (header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  const fromProtocol = offered.find((p) => p.startsWith(KEY_SUBPROTOCOL_PREFIX))?.slice(KEY_SUBPROTOCOL_PREFIX.length);
  return bearerToken(header('authorization')) ?? header('x-api-key') ?? (fromProtocol || undefined);
}

function serve(ws: WebSocket, session: SessionPort, closeGraceMs: number): void {
  // Callbacks run in the session's scope: a bug in one ends that session, not the process.
  ws.on(
    'message',
    session.bind((data: RawData, isBinary: boolean) => {
      if (!isBinary) return session.rejectMessage(TEXT_FRAME_MESSAGE);
      deliverRequest(session, decodeRequest(asBytes(data)));
    }),
  );
  ws.on(
    'close',
    session.bind((code: number) => {
      if (code === CLOSE.normal || code === CLOSE.goingAway) session.end();
      else session.close(`the WebSocket closed with code ${code}`, 'client_gone');
    }),
  );
  pump(ws, session, closeGraceMs).catch((error: unknown) => {
    session.fail(error);
    closeWithin(ws, CLOSE.internalError, 'internal error: the session was closed', closeGraceMs);
  });
}

async function pump(ws: WebSocket, session: SessionPort, closeGraceMs: number): Promise<void> {
  const sink = webSocketSink(ws, (event) => [toBinary(ConverseResponseSchema, toResponse(event))]);
  const end = await pumpEvents(session, sink, { closeGraceMs });
  if (end.kind === 'gone') return;
  if (end.kind === 'stuck') {
    // The close frame waits behind what is buffered; a client that still does not read is cut off.
    closeWithin(ws, CLOSE.policyViolation, session.closeReason ?? 'the client stopped reading', closeGraceMs);
    return;
  }
  closeWithin(ws, closeCodeFor(end.last, session.closeCause), session.closeReason ?? 'the session ended', closeGraceMs);
}

function asBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
