/**
 * The guards every WebSocket transport of sessions shares. A transport (voice.v1 at /v1/voice,
 * OpenAI Realtime at /v1/realtime, and any new one) calls `createSessionWebSocketServer` and gets:
 *
 * - the page's Origin checked (origin-check.ts): same origin, ALLOWED_ORIGINS, or no Origin at all;
 * - admission only once `ws` has validated the upgrade (method, key, version, subprotocols), so a
 *   malformed upgrade is answered 400 without holding a session, and a session admitted for a
 *   handshake that then fails (the client left, the server is closing) is released at once;
 * - frames bounded in bytes (`maxFrameBytes`: a larger one closes the socket with 1009 and a
 *   reason), no compression;
 * - no frame before the session exists (the 101 is sent after admission); the session's own
 *   guards (START_TIMEOUT_MS, idle time, queues in bytes) apply from then on.
 *
 * A refusal reaches the client as an HTTP status on the upgrade (`refuse: 'http'`, for SDKs that
 * report it) or as a close code and reason after the handshake (`refuse: 'close'`, for browsers,
 * which can read a close reason but not a status).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { SessionPort } from '../../core/session-port.js';
import { originAllowed } from '../origin-check.js';
import { isRefusal, type SessionFactory, type SessionRefusal } from '../session-factory.js';
import { CLOSE, closeWithin } from './close.js';
import { socketClassWithOversizeReason } from './sink.js';

/** Why an upgrade is refused: a session refusal, a bad request, or a page from another site. */
export type UpgradeRefusal = SessionRefusal['code'] | 'bad_request' | 'forbidden_origin';

const HTTP_STATUS: Record<UpgradeRefusal, number> = {
  unauthenticated: 401,
  resource_exhausted: 429,
  unavailable: 503,
  bad_request: 400,
  forbidden_origin: 403,
};

const REFUSAL_CLOSE: Record<SessionRefusal['code'], number> = {
  unauthenticated: CLOSE.policyViolation,
  resource_exhausted: CLOSE.tryAgainLater,
  unavailable: CLOSE.tryAgainLater,
};

/** On shutdown, how long clients get to answer the close handshake. */
const SHUTDOWN_CLOSE_WAIT_MS = 1_000;

export interface SessionWebSocketOptions<U extends { credential: string | undefined }> {
  /** The transport's name, for logs of refusals (e.g. websocket, realtime). */
  transport: string;
  /** Largest frame `ws` reads (bytes); a larger one closes the socket with 1009 and `oversizeReason`. */
  maxFrameBytes: number;
  oversizeReason: string;
  /** The subprotocol to answer with, or false for none (ws's handleProtocols). */
  chooseProtocol: (offered: Set<string>) => string | false;
  /** Origins allowed besides the gateway's own (ALLOWED_ORIGINS; `*`: any). */
  allowedOrigins: readonly string[];
  createSession: SessionFactory;
  /** What the client presents in its upgrade request (at least its credential), or a problem (400). */
  readUpgrade: (request: IncomingMessage) => U | { problem: string };
  /** How refusals reach the client (see the file comment). */
  refuse: 'http' | 'close';
  /** The body of an HTTP refusal; by default the message as plain text. */
  refusalBody?: (refusal: UpgradeRefusal, message: string) => { contentType: string; body: string };
  /** Serves one admitted connection. Its socket callbacks should go through `session.bind`. */
  serve: (ws: WebSocket, session: SessionPort, upgrade: U) => void;
  /** How long a refused browser gets to take the close frame before it is cut off. */
  closeGraceMs: number;
}

export interface SessionWebSocketServer {
  /** The HTTP upgrade handler to register for the transport's path. */
  upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly connections: number;
  /** Closes every socket (1001), cutting off those that do not answer within a second. */
  close(): Promise<void>;
}

type Admitted<U> = { made: SessionPort | SessionRefusal; upgrade: U };

export function createSessionWebSocketServer<U extends { credential: string | undefined }>(options: SessionWebSocketOptions<U>): SessionWebSocketServer {
  // What verifyClient decided for a request, until the handshake completes (or fails).
  const admitted = new WeakMap<IncomingMessage, Admitted<U>>();
  const refusal = (kind: UpgradeRefusal, message: string, retryAfterS?: number): [false, number, string, Record<string, string>] => {
    const { contentType, body } = options.refusalBody?.(kind, message) ?? { contentType: 'text/plain; charset=utf-8', body: `${message}\n` };
    const headers: Record<string, string> = { 'Content-Type': contentType, ...(retryAfterS === undefined ? {} : { 'Retry-After': String(retryAfterS) }) };
    return [false, HTTP_STATUS[kind], body, headers];
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false, // audio barely compresses; inflating would only cost CPU (and memory)
    WebSocket: socketClassWithOversizeReason(options.oversizeReason),
    handleProtocols: options.chooseProtocol,
    // Called only once ws has validated the upgrade request: nothing is admitted for a bad one.
    verifyClient: (info: { origin: string | undefined; req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
      const request = info.req;
      if (!originAllowed(info.origin, request.headers.host, options.allowedOrigins)) {
        return done(...refusal('forbidden_origin', `pages of ${info.origin} may not open sessions on this gateway: list the origin in ALLOWED_ORIGINS`));
      }
      const upgrade = options.readUpgrade(request);
      if ('problem' in upgrade) return done(...refusal('bad_request', upgrade.problem));
      options.createSession(upgrade.credential, { address: request.socket.remoteAddress, transport: options.transport }).then(
        (made) => {
          if (isRefusal(made) && options.refuse === 'http') return done(...refusal(made.code, made.refused, made.retryAfterS));
          if (request.socket.destroyed) {
            if (!isRefusal(made)) made.close('the client left during the WebSocket handshake', 'client_gone');
            return;
          }
          admitted.set(request, { made, upgrade });
          // A handshake that fails from here (the client left, the server is closing) releases the session.
          request.socket.once('close', () => {
            const left = admitted.get(request);
            admitted.delete(request);
            if (left && !isRefusal(left.made)) left.made.close('the WebSocket handshake did not complete', 'client_gone');
          });
          done(true);
        },
        () => done(false, 500, 'internal error while admitting the session'),
      );
    },
  });

  return {
    upgrade: (request, socket, head) => {
      socket.on('error', () => socket.destroy());
      wss.handleUpgrade(request, socket, head, (ws) => {
        const entry = admitted.get(request);
        admitted.delete(request);
        if (!entry) return ws.terminate(); // cannot happen: verifyClient admitted it
        ws.on('error', () => undefined); // the 'close' that follows ends the session
        const { made, upgrade } = entry;
        if (isRefusal(made)) {
          const retry = made.retryAfterS === undefined ? '' : ` (retry after ${made.retryAfterS} s)`;
          return closeWithin(ws, REFUSAL_CLOSE[made.code], `${made.refused}${retry}`, options.closeGraceMs);
        }
        options.serve(ws, made, upgrade);
      });
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
