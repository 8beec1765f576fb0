/**
 * A scripted Twilio for tests, over a real WebSocket: it dials the gateway's stream, sends
 * `connected` and `start`, sends the caller's mu-law in 20 ms media messages at real-time pace,
 * and plays what the gateway sends the way Twilio does: reply audio queues and plays at 8000
 * bytes a second of wall-clock time (a late timer in this process plays what was due); a mark is echoed once the audio queued before it has played; `clear` drops the
 * queued audio and echoes every pending mark at once.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { mulawSilence, mulawTone } from './phone-audio.js';
import { eventually } from './telephony-gateway.js';

const FRAME_BYTES = 160; // 20 ms of 8 kHz mu-law
const FRAME_MS = 20;

export interface TwilioPeerOptions {
  headers?: Record<string, string>;
  customParameters?: Record<string, string>;
  /** Replaces the whole start message (e.g. a Telnyx-shaped one). */
  start?: object;
  /** Do not send connected/start (a stream that never starts). */
  silent?: boolean;
}

type Queued = { kind: 'audio'; bytes: Buffer } | { kind: 'mark'; name: string };

export class TwilioPeer {
  readonly streamSid = `MZ${'0'.repeat(31)}${Math.floor(Math.random() * 10)}`;
  /** Every message the gateway sent, parsed. */
  readonly received: Array<{ event: string; [field: string]: unknown }> = [];
  /** Reply audio that has "played" to the caller. */
  readonly heard: Buffer[] = [];
  readonly echoedMarks: string[] = [];
  clears = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  private queue: Queued[] = [];
  private sequence = 0;
  private player: NodeJS.Timeout | undefined;
  private readonly startedAt = performance.now();
  private ticks = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => this.onMessage(JSON.parse(data.toString()) as { event: string; [field: string]: unknown }));
    this.closed.then(() => clearInterval(this.player), () => undefined);
  }

  static async connect(url: string, options: TwilioPeerOptions = {}): Promise<TwilioPeer> {
    const ws = new WebSocket(url, { headers: options.headers });
    const peer = new TwilioPeer(ws);
    await once(ws, 'open');
    peer.player = setInterval(() => peer.catchUp(), FRAME_MS);
    if (options.silent) return peer;
    peer.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    peer.send(
      options.start ?? {
        event: 'start',
        sequenceNumber: peer.nextSequence(),
        streamSid: peer.streamSid,
        start: {
          streamSid: peer.streamSid,
          accountSid: 'AC00000000000000000000000000000000',
          callSid: 'CA00000000000000000000000000000000',
          tracks: ['inbound'],
          customParameters: options.customParameters ?? {},
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
      },
    );
    return peer;
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  /** The caller speaks: mu-law sent in 20 ms messages at real-time pace. */
  async speak(mulaw: Uint8Array): Promise<void> {
    const startedAt = performance.now();
    for (let at = 0, chunk = 0; at < mulaw.length; at += FRAME_BYTES, chunk++) {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      const payload = Buffer.from(mulaw.subarray(at, at + FRAME_BYTES)).toString('base64');
      this.send({ event: 'media', sequenceNumber: this.nextSequence(), streamSid: this.streamSid, media: { track: 'inbound', chunk: String(chunk + 1), timestamp: String(chunk * FRAME_MS), payload } });
      const due = startedAt + (chunk + 1) * FRAME_MS;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
  }

  /**
   * The caller talks over the agent once `heardMs` of its reply has played: a tone until the
   * gateway sends `clear`, then the silence that ends the caller's turn.
   */
  async talkOver(heardMs: number, what: string): Promise<void> {
    await eventually(() => this.heardMs >= heardMs, what);
    const speaking = this.speak(mulawTone(900));
    await eventually(() => this.clears > 0, 'a clear from the gateway');
    await speaking;
    await this.speak(mulawSilence(600));
  }

  pressKey(digit: string): void {
    this.send({ event: 'dtmf', sequenceNumber: this.nextSequence(), streamSid: this.streamSid, dtmf: { track: 'inbound_track', digit } });
  }

  /** The caller hangs up: Twilio sends stop, then closes. */
  hangUp(): void {
    this.send({ event: 'stop', sequenceNumber: this.nextSequence(), streamSid: this.streamSid, stop: { accountSid: 'AC0', callSid: 'CA0' } });
    this.ws.close(1000);
  }

  /** Ms of reply audio played so far. */
  get heardMs(): number {
    return (this.heard.reduce((n, b) => n + b.length, 0) * 1000) / 8000;
  }

  /** Ms of reply audio received (played or queued). */
  receivedAudioMs(): number {
    return this.received.filter((m) => m.event === 'media').reduce((n, m) => n + Buffer.from((m.media as { payload: string }).payload, 'base64').length, 0) / 8;
  }

  private nextSequence(): string {
    return String(++this.sequence);
  }

  private onMessage(message: { event: string; [field: string]: unknown }): void {
    this.catchUp();
    this.received.push(message);
    if (message.streamSid !== this.streamSid) throw new Error(`the gateway sent a message for stream ${String(message.streamSid)}`);
    if (message.event === 'media') this.queue.push({ kind: 'audio', bytes: Buffer.from((message.media as { payload: string }).payload, 'base64') });
    else if (message.event === 'mark') this.queue.push({ kind: 'mark', name: (message.mark as { name: string }).name });
    else if (message.event === 'clear') {
      this.clears++;
      const pending = this.queue.filter((q): q is Extract<Queued, { kind: 'mark' }> => q.kind === 'mark');
      this.queue = [];
      for (const mark of pending) this.echo(mark.name);
    } else throw new Error(`the gateway sent an event Twilio does not take: ${message.event}`);
  }

  /** Plays every 20 ms tick that wall-clock time says is due. */
  private catchUp(): void {
    const due = Math.floor((performance.now() - this.startedAt) / FRAME_MS);
    for (; this.ticks < due; this.ticks++) this.play();
  }

  /** One 20 ms tick of the caller's earpiece. */
  private play(): void {
    let budget = FRAME_BYTES;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'mark') {
        this.queue.shift();
        this.echo(head.name);
        continue;
      }
      if (budget === 0) break;
      const n = Math.min(budget, head.bytes.length);
      this.heard.push(head.bytes.subarray(0, n));
      budget -= n;
      if (n === head.bytes.length) this.queue.shift();
      else head.bytes = head.bytes.subarray(n);
    }
  }

  private echo(name: string): void {
    this.echoedMarks.push(name);
    if (this.ws.readyState === WebSocket.OPEN) this.send({ event: 'mark', sequenceNumber: this.nextSequence(), streamSid: this.streamSid, mark: { name } });
  }
}
