/**
 * Asterisk's WebSocket channel on the HTTP port, at ASTERISK_PATH: Asterisk dials the gateway
 * (`Dial(WebSocket/<client>/c(ulaw))` with a websocket_client.conf entry whose uri is this path).
 * The gateway key comes as the websocket_client password (HTTP Basic), a bearer header, or
 * `?key=` through the dial string's v() option, whose other parameters (greeting, instructions,
 * voice, language) set up the call.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { closeAllClients, closeReason } from '../../websocket-close.js';
import { socketClassWithOversizeReason } from '../../websocket-sink.js';
import { queryParameters, requestCredential } from '../credential.js';
import { SHUTDOWN_CLOSE_WAIT_MS, type TelephonyOptions } from '../options.js';
import { serveAsteriskChannel } from './connection.js';

export const ASTERISK_PATH = '/v1/telephony/asterisk';

export interface AsteriskServer {
  upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  close(): Promise<void>;
}

export function createAsteriskServer(options: TelephonyOptions): AsteriskServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    WebSocket: socketClassWithOversizeReason(closeReason(`a frame was larger than MAX_MESSAGE_BYTES (${options.maxMessageBytes} bytes)`)),
    // websocket_client.conf's `protocols` (e.g. "media") is answered as offered.
    handleProtocols: (offered) => offered.values().next().value ?? false,
  });
  return {
    upgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      const context = { credential: requestCredential(request), parameters: queryParameters(request) };
      wss.handleUpgrade(request, socket, head, (ws) => serveAsteriskChannel(ws, context, options));
    },
    close: () => closeAllClients(wss, 'the gateway is shutting down', SHUTDOWN_CLOSE_WAIT_MS),
  };
}
