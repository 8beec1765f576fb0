/**
 * The OpenAI Realtime-compatible endpoint: `/v1/realtime` on the HTTP port (wss when the port
 * serves TLS, which the `openai` SDK requires). Any Realtime client, GA or beta dialect, talks to
 * the same session engine as gRPC and voice.v1 WebSocket clients; this transport maps the
 * protocol and adds no conversation logic (./client-events.ts in, ./server-events.ts out).
 *
 * A session is admitted before the handshake completes, with the key from `Authorization:
 * Bearer` or the `openai-insecure-api-key.` subprotocol; a refusal is an HTTP status (401, 429,
 * 503) on the upgrade.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { isRefusal, type SessionFactory } from '../session-factory.js';
import { serveRealtime } from './connection.js';
import { CLOSE, closeReason } from '../websocket-shared/close.js';
import { socketClassWithOversizeReason } from '../websocket-shared/sink.js';
import { chooseProtocol, readHandshake, refuseUpgrade } from './handshake.js';

export const REALTIME_PATH = '/v1/realtime';
/** The model name shown when the client names none. */
const DEFAULT_MODEL = 'voice-gateway';
/** How long a closing client gets to take its last frames and the close frame before it is cut off. */
const DEFAULT_CLOSE_GRACE_MS = 10_000;
/** On shutdown, how long clients get to answer the close handshake. */
const SHUTDOWN_CLOSE_WAIT_MS = 1_000;

export interface RealtimeServerOptions {
  createSession: SessionFactory;
  /** An event larger than this (MAX_MESSAGE_BYTES) gets an error event and is dropped. */
  maxMessageBytes: number;
  /** A frame larger than this (REALTIME_MAX_FRAME_BYTES) closes the socket with 1009, unread. */
  maxFrameBytes: number;
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
  const oversize = closeReason(`a frame was larger than REALTIME_MAX_FRAME_BYTES (${options.maxFrameBytes} bytes): append audio in smaller chunks`);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Math.max(options.maxFrameBytes, options.maxMessageBytes),
    perMessageDeflate: false, // base64 audio barely compresses; inflating would only cost CPU
    WebSocket: socketClassWithOversizeReason(oversize),
    handleProtocols: chooseProtocol,
  });
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;

  return {
    upgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      const handshake = readHandshake(request, DEFAULT_MODEL);
      if ('problem' in handshake) return refuseUpgrade(socket, 'bad_request', handshake.problem);
      void options.createSession(handshake.credential).then(
        (made) => {
          if (isRefusal(made)) return refuseUpgrade(socket, made.code, made.refused, made.retryAfterS);
          if (socket.destroyed) return made.close('the client left during the WebSocket handshake', 'client_gone');
          wss.handleUpgrade(request, socket, head, (ws) =>
            serveRealtime(ws, made, { dialect: handshake.dialect, model: handshake.model, maxMessageBytes: options.maxMessageBytes, closeGraceMs, resumeToken: handshake.resumeToken }),
          );
        },
        () => socket.destroy(),
      );
    },
    get connections() {
      return wss.clients.size;
    },
    async close() {
      const open = [...wss.clients];
      for (const ws of open) ws.close(CLOSE.goingAway, 'the gateway is shutting down: reconnect');
      const deadline = Date.now() + SHUTDOWN_CLOSE_WAIT_MS;
      while (open.some((ws) => ws.readyState !== WebSocket.CLOSED) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const ws of open) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
