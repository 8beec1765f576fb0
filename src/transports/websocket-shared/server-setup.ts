/**
 * What the two WebSocket servers (voice.v1 at /v1/voice, OpenAI Realtime at /v1/realtime) set up
 * alike: a server on the HTTP port's upgrades, without compression (audio barely compresses and
 * inflating costs CPU), whose oversized frames close with 1009 and a reason; and the shutdown that
 * closes every socket with 1001 and cuts off those that do not answer.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { CLOSE, closeReason } from './close.js';
import { socketClassWithOversizeReason } from './sink.js';

/** How long a closing client gets to take its last frames and the close frame before it is cut off. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;
/** On shutdown, how long clients get to answer the close handshake. */
const SHUTDOWN_CLOSE_WAIT_MS = 1_000;

export interface WebSocketServerSetup {
  /** Largest frame accepted; a bigger one closes the socket with 1009 and `oversizeReason`. */
  maxPayloadBytes: number;
  oversizeReason: string;
  /** The subprotocol to answer with, or false for none. */
  handleProtocols: (offered: Set<string>, request: IncomingMessage) => string | false;
}

export function createWebSocketServer(setup: WebSocketServerSetup): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: setup.maxPayloadBytes,
    perMessageDeflate: false,
    WebSocket: socketClassWithOversizeReason(closeReason(setup.oversizeReason)),
    handleProtocols: setup.handleProtocols,
  });
}

/** Closes every socket with 1001 and `reason`, cuts off those that do not answer within a second, then the server. */
export async function closeAllSockets(wss: WebSocketServer, reason: string): Promise<void> {
  const open = [...wss.clients];
  for (const ws of open) ws.close(CLOSE.goingAway, reason);
  const deadline = Date.now() + SHUTDOWN_CLOSE_WAIT_MS;
  while (open.some((ws) => ws.readyState !== WebSocket.CLOSED) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const ws of open) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}
