/**
 * The OpenAI Realtime-compatible endpoint: `/v1/realtime` on the HTTP port (wss when the port
 * serves TLS, which the `openai` SDK requires). Any Realtime client, GA or beta dialect, talks to
 * the same session engine as gRPC and voice.v1 WebSocket clients; this transport maps the
 * protocol and adds no conversation logic (./client-events.ts in, ./server-events.ts out).
 *
 * A session is admitted once the upgrade request is validated, with the key from `Authorization:
 * Bearer` or the `openai-insecure-api-key.` subprotocol; a refusal is an HTTP status (401, 429,
 * 503; 400 for a bad request, 403 for a page of another site) on the upgrade. The shared guards
 * are those of ../websocket-shared/sessions.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SessionFactory } from '../session-factory.js';
import { serveRealtime } from './connection.js';
import { closeReason } from '../websocket-shared/close.js';
import { createSessionWebSocketServer } from '../websocket-shared/sessions.js';
import { chooseProtocol, readHandshake, refusalBody } from './handshake.js';

export const REALTIME_PATH = '/v1/realtime';
/** The model name shown when the client names none. */
const DEFAULT_MODEL = 'voice-gateway';
/** How long a closing client gets to take its last frames and the close frame before it is cut off. */
const DEFAULT_CLOSE_GRACE_MS = 10_000;
/** Bytes of client events a connection keeps while they wait for the session's answers (default). */
const DEFAULT_PENDING_ANSWERS_MAX_BYTES = 1024 * 1024;

export interface RealtimeServerOptions {
  createSession: SessionFactory;
  /** An event larger than this (MAX_MESSAGE_BYTES) gets an error event and is dropped. */
  maxMessageBytes: number;
  /** A frame larger than this (REALTIME_MAX_FRAME_BYTES) closes the socket with 1009, unread. */
  maxFrameBytes: number;
  /** Bytes of events awaiting their answers a connection keeps (REALTIME_PENDING_ANSWERS_MAX_BYTES). */
  pendingAnswersMaxBytes?: number;
  /** Origins of web pages allowed besides the gateway's own (ALLOWED_ORIGINS). */
  allowedOrigins?: readonly string[];
  closeGraceMs?: number;
}

export interface RealtimeServer {
  /** The HTTP upgrade handler to register for REALTIME_PATH (a function property: it needs no `this`). */
  upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly connections: number;
  /** Closes every socket (1001), cutting off those that do not answer within a second. */
  close(): Promise<void>;
}

export function createRealtimeServer(options: RealtimeServerOptions): RealtimeServer {
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  const { maxMessageBytes } = options;
  const pendingAnswersMaxBytes = options.pendingAnswersMaxBytes ?? DEFAULT_PENDING_ANSWERS_MAX_BYTES;
  return createSessionWebSocketServer({
    transport: 'realtime',
    maxFrameBytes: Math.max(options.maxFrameBytes, maxMessageBytes),
    oversizeReason: closeReason(`a frame was larger than REALTIME_MAX_FRAME_BYTES (${options.maxFrameBytes} bytes): append audio in smaller chunks`),
    chooseProtocol,
    allowedOrigins: options.allowedOrigins ?? [],
    createSession: options.createSession,
    readUpgrade: (request) => readHandshake(request, DEFAULT_MODEL),
    refuse: 'http',
    refusalBody,
    serve: (ws, session, handshake) =>
      serveRealtime(ws, session, { dialect: handshake.dialect, model: handshake.model, maxMessageBytes, pendingAnswersMaxBytes, closeGraceMs, resumeToken: handshake.resumeToken }),
    closeGraceMs,
  });
}
