/**
 * A voice.v1 client over the gateway's WebSocket for tests: real socket, binary Protobuf frames,
 * every server event kept in order, and waits that are bounded but never part of an assertion.
 */
import { once } from 'node:events';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { WebSocket } from 'ws';
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';

export type RequestEvent = MessageInitShape<typeof pb.ConverseRequestSchema>['event'];
export type ResponseCase = NonNullable<pb.ConverseResponse['event']['case']>;

export interface VoiceWsClient {
  ws: WebSocket;
  events: pb.ConverseResponse[];
  /** Resolves with the close code and reason, whoever closed. */
  closed: Promise<{ code: number; reason: string }>;
  send(event: RequestEvent): void;
  /** The first event of `kind` at or after index `from` that `match` accepts. */
  next<K extends ResponseCase>(kind: K, match?: (value: Extract<pb.ConverseResponse['event'], { case: K }>['value']) => boolean, from?: number): Promise<Extract<pb.ConverseResponse['event'], { case: K }>['value']>;
  close(): Promise<void>;
}

/** Waits are generous: they only stop a broken test from hanging, never judge speed. */
const WAIT_MS = 30_000;

export async function connectVoiceWs(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<VoiceWsClient> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const events: pb.ConverseResponse[] = [];
  let changed: () => void = () => undefined;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) throw new Error(`the gateway sent a text frame: ${data.toString()}`);
    events.push(fromBinary(pb.ConverseResponseSchema, data));
    changed();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => undefined); // the close that follows is what tests look at
  await once(ws, 'open');

  const client: VoiceWsClient = {
    ws,
    events,
    closed,
    send: (event) => ws.send(toBinary(pb.ConverseRequestSchema, create(pb.ConverseRequestSchema, { event }))),
    async next(kind, match = () => true, from = 0) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        for (const e of events.slice(from)) if (e.event.case === kind && match(e.event.value as never)) return e.event.value as never;
        if (Date.now() > deadline) throw new Error(`no ${kind} event in ${WAIT_MS} ms; got ${events.map((e) => e.event.case).join(', ')}`);
        if (ws.readyState === WebSocket.CLOSED) throw new Error(`the socket closed before a ${kind} event; got ${events.map((e) => e.event.case).join(', ')}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 200);
          changed = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    async close() {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      await closed;
    },
  };
  return client;
}

/** Sends PCM16 mono in chunks of `chunkMs`, as fast as the socket takes it. */
export function sendPcm(client: VoiceWsClient, pcm: Int16Array, sampleRateHz = 16000, chunkMs = 100): void {
  const n = Math.round((sampleRateHz * chunkMs) / 1000);
  for (let at = 0; at < pcm.length; at += n) {
    const chunk = pcm.slice(at, at + n);
    client.send({ case: 'audio', value: { data: bytesFromPcm16(chunk) } });
  }
}
