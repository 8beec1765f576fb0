/**
 * Twilio Media Streams on the HTTP port: the stream at TWILIO_STREAM_PATH (WebSocket) and the
 * TwiML webhook at TWIML_PATH. Fonoster (protocol "twilio"), SignalWire and Telnyx streams speak
 * the same messages and use the same path (README, "Phone calls", says where they differ).
 *
 * A carrier signature (X-Twilio-Signature, x-fonoster-signature) is checked before the
 * handshake: a wrong one is an HTTP 403 and no audio is ever read. A valid one admits the call;
 * without one the gateway's own key applies, as on every transport.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { closeAllClients, closeReason, refuseUpgradeText } from '../../websocket-close.js';
import { socketClassWithOversizeReason } from '../../websocket-sink.js';
import { checkCarrierSignature } from '../carrier-signatures.js';
import { requestCredential } from '../credential.js';
import { SHUTDOWN_CLOSE_WAIT_MS, type TelephonyOptions } from '../options.js';
import type { RouteHandler } from '../../http/server.js';
import { serveTwilioStream } from './connection.js';
import { twimlHandler } from './twiml.js';

export const TWILIO_STREAM_PATH = '/v1/telephony/twilio';
export const TWIML_PATH = '/v1/telephony/twilio/twiml';

export interface TwilioServer {
  upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  twiml: RouteHandler;
  close(): Promise<void>;
}

export function createTwilioServer(options: TelephonyOptions): TwilioServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    WebSocket: socketClassWithOversizeReason(closeReason(`a frame was larger than MAX_MESSAGE_BYTES (${options.maxMessageBytes} bytes)`)),
  });
  return {
    upgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      const check = checkCarrierSignature(request, 'ws', options.signatures);
      if (check.kind === 'invalid' || (check.kind === 'absent' && options.signatureRequired)) {
        const why = check.kind === 'invalid' ? check.message : 'this gateway takes only signed streams: the X-Twilio-Signature (or x-fonoster-signature) header is missing';
        options.log.warn({ transport: 'twilio' }, `stream refused: ${why}`);
        return refuseUpgradeText(socket, 403, why);
      }
      const verified = check.kind === 'verified' ? { principal: check.principal } : undefined;
      wss.handleUpgrade(request, socket, head, (ws) => serveTwilioStream(ws, { credential: requestCredential(request), verified }, options));
    },
    twiml: twimlHandler(TWILIO_STREAM_PATH, options),
    close: () => closeAllClients(wss, 'the gateway is shutting down', SHUTDOWN_CLOSE_WAIT_MS),
  };
}
