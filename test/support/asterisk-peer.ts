/**
 * A scripted Asterisk chan_websocket channel for tests, over a real WebSocket, as Asterisk
 * behaves (docs.asterisk.org, Channel Drivers > WebSocket): it dials the gateway (outgoing
 * connection, websocket_client.conf with username/password), sends MEDIA_START, sends the
 * caller's audio as binary frames every 20 ms, and queues what it receives, playing one
 * optimal_frame_size frame per 20 ms of wall-clock time, as Asterisk's own timer does whatever this
 * test process is doing (a message that is not a whole number of frames loses the rest). Commands: FLUSH_MEDIA drops the queue, HANGUP hangs up (the socket closes),
 * REPORT_QUEUE_DRAINED asks for one QUEUE_DRAINED once the queue is empty. It can send DTMF_END
 * and MEDIA_XOFF/MEDIA_XON as the driver does.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { sendPaced } from './phone-audio.js';

const FRAME_MS = 20;

export interface AsteriskPeerOptions {
  format?: string;
  frameBytes?: number;
  /** websocket_client.conf password (sent as HTTP Basic). */
  password?: string;
}

export class AsteriskPeer {
  readonly commands: string[] = [];
  /** Frames played to the caller. */
  heardFrames = 0;
  /** Bytes of binary messages that were not a whole number of frames (Asterisk drops them). */
  droppedBytes = 0;
  /** Most frames ever waiting in the queue. */
  maxQueued = 0;
  /** Binary messages received while MEDIA_XOFF was in force. */
  mediaWhileXoff = 0;
  receivedFrames = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly frameBytes: number;
  private queue = 0;
  private xoff = false;
  private reportDrained = false;
  private readonly player: NodeJS.Timeout;
  private readonly startedAt = performance.now();
  private ticks = 0;

  private constructor(
    readonly ws: WebSocket,
    options: AsteriskPeerOptions,
  ) {
    this.frameBytes = options.frameBytes ?? 160;
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => (isBinary ? this.onMedia(data) : this.onCommand(data.toString())));
    this.player = setInterval(() => this.catchUp(), FRAME_MS);
    void this.closed.then(() => clearInterval(this.player));
  }

  static async dial(url: string, options: AsteriskPeerOptions = {}): Promise<AsteriskPeer> {
    const headers: Record<string, string> = {};
    if (options.password) headers.authorization = `Basic ${Buffer.from(`asterisk:${options.password}`).toString('base64')}`;
    const ws = new WebSocket(url, ['media'], { headers });
    const peer = new AsteriskPeer(ws, options);
    await once(ws, 'open');
    return peer;
  }

  start(format = 'ulaw'): void {
    this.ws.send(`MEDIA_START connection_id:c0ffee channel:WebSocket/test-00000001 channel_id:1732970000.1 format:${format} optimal_frame_size:${this.frameBytes} ptime:20`);
  }

  speak(audio: Uint8Array): Promise<void> {
    return sendPaced(audio, this.frameBytes, (frame) => this.ws.readyState === WebSocket.OPEN && (this.ws.send(frame, { binary: true }), true));
  }

  pressKey(digit: string): void {
    this.ws.send(`DTMF_END digit:${digit} channel_id:1732970000.1`);
  }

  setXoff(on: boolean): void {
    this.xoff = on;
    this.ws.send(on ? 'MEDIA_XOFF' : 'MEDIA_XON');
  }

  /** The caller hangs up: Asterisk closes the socket. */
  hangUp(): void {
    this.ws.close(1000);
  }

  get heardMs(): number {
    return this.heardFrames * FRAME_MS;
  }

  private onMedia(data: Buffer): void {
    this.catchUp();
    if (this.xoff) this.mediaWhileXoff++;
    const frames = Math.floor(data.length / this.frameBytes);
    this.droppedBytes += data.length - frames * this.frameBytes;
    this.receivedFrames += frames;
    this.queue += frames;
    this.maxQueued = Math.max(this.maxQueued, this.queue);
  }

  private onCommand(command: string): void {
    this.commands.push(command);
    if (command === 'FLUSH_MEDIA') this.queue = 0;
    else if (command === 'REPORT_QUEUE_DRAINED') this.reportDrained = true;
    else if (command === 'HANGUP') this.ws.close(1000);
  }

  /** Plays every 20 ms tick that wall-clock time says is due (a late timer plays several). */
  private catchUp(): void {
    const due = Math.floor((performance.now() - this.startedAt) / FRAME_MS);
    for (; this.ticks < due; this.ticks++) this.play();
  }

  private play(): void {
    if (this.queue > 0) {
      this.queue--;
      this.heardFrames++;
    } else if (this.reportDrained && this.ws.readyState === WebSocket.OPEN) {
      this.reportDrained = false;
      this.ws.send('QUEUE_DRAINED');
    }
  }
}
