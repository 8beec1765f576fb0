/**
 * A scripted Asterisk AudioSocket() for tests, over real TCP: it connects, sends the call's UUID,
 * then the caller's signed-linear audio, one 20 ms message every 20 ms, as Asterisk does. What the
 * gateway sends is read with its own framing code here (kind, 2-byte big-endian length, payload)
 * and played as it arrives, as Asterisk does: what arrives is heard.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

const FRAME_MS = 20;

export class AudioSocketClient {
  /** Audio payloads received, with their kind and when they came (performance.now()). */
  readonly audio: Array<{ kind: number; bytes: number; at: number }> = [];
  hangupReceived = false;
  readonly ended: Promise<void>;
  private buffered = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async connect(port: number, uuid: Buffer = randomBytes(16)): Promise<AudioSocketClient> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const client = new AudioSocketClient(socket);
    client.send(0x01, uuid);
    return client;
  }

  send(kind: number, payload: Uint8Array = new Uint8Array(0)): void {
    const header = Buffer.alloc(3);
    header[0] = kind;
    header.writeUInt16BE(payload.length, 1);
    this.socket.write(Buffer.concat([header, payload]));
  }

  /** Speaks slin audio of `kind` (0x10: 8 kHz) at real-time pace. */
  async speak(audio: Uint8Array, kind = 0x10): Promise<void> {
    const frameBytes = kind === 0x12 ? 640 : 320;
    const startedAt = performance.now();
    for (let at = 0, i = 0; at < audio.length; at += frameBytes, i++) {
      if (this.socket.destroyed) return;
      this.send(kind, audio.subarray(at, at + frameBytes));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + (i + 1) * FRAME_MS - performance.now())));
    }
  }

  pressKey(digit: string): void {
    this.send(0x03, Buffer.from(digit, 'latin1'));
  }

  hangUp(): void {
    this.send(0x00);
    this.socket.end();
  }

  /** Ms of audio heard (received) so far, at `rateHz`. */
  heardMs(rateHz = 8000): number {
    return (this.audio.reduce((n, a) => n + a.bytes, 0) * 1000) / (rateHz * 2);
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 3) {
      const length = this.buffered.readUInt16BE(1);
      if (this.buffered.length < 3 + length) return;
      const kind = this.buffered[0]!;
      if (kind === 0x00) this.hangupReceived = true;
      else this.audio.push({ kind, bytes: length, at: performance.now() });
      this.buffered = this.buffered.subarray(3 + length);
    }
  }
}
