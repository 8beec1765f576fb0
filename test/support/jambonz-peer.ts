/**
 * A scripted jambonz `listen` stream for tests, over a real WebSocket, as jambonz makes it
 * (docs.jambonz.org, verbs/listen and the bidirectional audio article): it connects with
 * subprotocol audio.jambonz.org, sends one text frame of call metadata (callSid, from, to,
 * sampleRate, mixType, the verb's metadata), then the caller's L16 audio in binary frames every
 * 20 ms. With bidirectional streaming it queues the binary audio it receives and plays 20 ms of it
 * per 20 ms of wall-clock time; `{"type":"killAudio"}` drops the queue. It can press keys
 * (`{"event":"dtmf"}`, as with passDtmf) and hang up (close the socket).
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { sendPaced } from './phone-audio.js';

const FRAME_MS = 20;

export class JambonzPeer {
  /** Text frames the gateway sent, parsed. */
  readonly commands: Array<Record<string, unknown>> = [];
  heardBytes = 0;
  receivedBytes = 0;
  /** Most bytes ever waiting to be played. */
  maxQueuedBytes = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Received audio not yet played when the socket closed (ms). */
  unplayedAtCloseMs = 0;
  private queuedBytes = 0;
  private readonly frameBytes: number;
  private readonly player: NodeJS.Timeout;
  private readonly startedAt = performance.now();
  private ticks = 0;

  private constructor(
    readonly ws: WebSocket,
    readonly sampleRateHz: number,
  ) {
    this.frameBytes = (sampleRateHz * FRAME_MS * 2) / 1000;
    this.closed = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => {
        this.catchUp();
        this.unplayedAtCloseMs = (this.queuedBytes * 1000) / (sampleRateHz * 2);
        resolve({ code, reason: reason.toString() });
      }),
    );
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => (isBinary ? this.onAudio(data) : this.onText(data.toString())));
    this.player = setInterval(() => this.catchUp(), FRAME_MS);
    void this.closed.then(() => clearInterval(this.player));
  }

  /** Opens the stream; `metadata` is the text frame jambonz sends first (null: send none yet). */
  static async connect(url: string, sampleRateHz = 8000, metadata: Record<string, unknown> | null = {}): Promise<JambonzPeer> {
    const ws = new WebSocket(url, ['audio.jambonz.org']);
    const peer = new JambonzPeer(ws, sampleRateHz);
    await once(ws, 'open');
    if (metadata) ws.send(JSON.stringify({ callSid: 'a1b2c3d4', from: '+15550100', to: '+15550199', direction: 'inbound', sampleRate: sampleRateHz, mixType: 'mono', ...metadata }));
    return peer;
  }

  /** Sends `audio` (L16 bytes) in 20 ms frames at real-time pace. */
  speak(audio: Uint8Array): Promise<void> {
    return sendPaced(audio, this.frameBytes, (frame) => this.ws.readyState === WebSocket.OPEN && (this.ws.send(frame, { binary: true }), true));
  }

  pressKey(digit: string): void {
    this.ws.send(JSON.stringify({ event: 'dtmf', dtmf: digit, duration: '100' }));
  }

  hangUp(): void {
    this.ws.close(1000);
  }

  get heardMs(): number {
    return (this.heardBytes * 1000) / (this.sampleRateHz * 2);
  }

  private onAudio(data: Buffer): void {
    this.catchUp();
    this.receivedBytes += data.length;
    this.queuedBytes += data.length;
    this.maxQueuedBytes = Math.max(this.maxQueuedBytes, this.queuedBytes);
  }

  private onText(text: string): void {
    const command = JSON.parse(text) as Record<string, unknown>;
    this.commands.push(command);
    if (command.type === 'killAudio') this.queuedBytes = 0;
  }

  /** Plays every 20 ms that wall-clock time says is due (a late timer plays several). */
  private catchUp(): void {
    const due = Math.floor((performance.now() - this.startedAt) / FRAME_MS);
    for (; this.ticks < due; this.ticks++) {
      const played = Math.min(this.frameBytes, this.queuedBytes);
      this.queuedBytes -= played;
      this.heardBytes += played;
    }
  }
}
