/**
 * The page's WebSocket to the gateway: voice.v1 ConverseRequest and ConverseResponse messages,
 * one binary Protobuf frame each, encoded with the code generated from the same .proto the
 * gateway serves over gRPC.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { ConverseRequestSchema, ConverseResponseSchema, type ConverseResponse } from '../../src/gen/voice/v1/voice_pb.js';

export type RequestEvent = MessageInitShape<typeof ConverseRequestSchema>['event'];

export const VOICE_PATH = '/v1/voice';
const SUBPROTOCOL = 'voice.v1';
const KEY_SUBPROTOCOL_PREFIX = 'voice-gateway-key.';
/**
 * Audio waiting in the socket past this (about 2 s at 16 kHz) is dropped instead of sent late: on
 * a stalled network, speech from seconds ago would only confuse the conversation.
 */
const MAX_BUFFERED_AUDIO_BYTES = 64 * 1024;

export interface SocketHandlers {
  opened(): void;
  message(response: ConverseResponse): void;
  /** A frame that is not a ConverseResponse (a gateway of another version?). */
  unreadable(reason: string): void;
  closed(code: number, reason: string): void;
}

export function gatewayUrl(location: Location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${VOICE_PATH}`;
}

export class VoiceSocket {
  private readonly ws: WebSocket;
  private ended = false;
  droppedAudioChunks = 0;

  constructor(url: string, accessKey: string, private readonly handlers: SocketHandlers) {
    // Browsers cannot set headers on a WebSocket: a key travels as a second offered subprotocol.
    const protocols = accessKey ? [SUBPROTOCOL, `${KEY_SUBPROTOCOL_PREFIX}${accessKey}`] : [SUBPROTOCOL];
    this.ws = new WebSocket(url, protocols);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => handlers.opened();
    this.ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => this.receive(event.data);
    this.ws.onclose = (event) => this.end(event.code, event.reason);
    // An 'error' is always followed by 'close', which says what is known.
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(event: RequestEvent): boolean {
    if (!this.open) return false;
    this.ws.send(toBinary(ConverseRequestSchema, create(ConverseRequestSchema, { event })));
    return true;
  }

  /** Sends microphone audio unless the socket is already behind; then the chunk is dropped. */
  sendAudio(data: Uint8Array): boolean {
    if (this.ws.bufferedAmount > MAX_BUFFERED_AUDIO_BYTES) {
      this.droppedAudioChunks++;
      return false;
    }
    return this.send({ case: 'audio', value: { data } });
  }

  close(): void {
    this.ws.close(1000, 'the user ended the conversation');
    this.end(1000, 'the user ended the conversation');
  }

  private receive(data: ArrayBuffer | string): void {
    if (typeof data === 'string') return this.handlers.unreadable('a text frame (the gateway sends binary frames)');
    let response: ConverseResponse;
    try {
      response = fromBinary(ConverseResponseSchema, new Uint8Array(data));
    } catch (error) {
      return this.handlers.unreadable(error instanceof Error ? error.message : String(error));
    }
    this.handlers.message(response);
  }

  private end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.closed(code, reason);
  }
}
