/**
 * The official `openai` SDK as a Realtime test client (GA or beta classes), over TLS with the
 * test CA: it records every server event in order and waits for the ones a test names.
 */
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { OpenAIRealtimeWS as BetaRealtimeWS } from 'openai/beta/realtime/ws';
import { bytesFromPcm16 } from '../../src/audio/pcm.js';

export type AnyEvent = { type: string; event_id?: string } & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ConnectOptions {
  port: number;
  ca: string;
  apiKey?: string;
  beta?: boolean;
  model?: string;
}

export class RealtimeTestClient {
  readonly events: AnyEvent[] = [];
  /** Socket-level errors the SDK reported (server `error` events are in `events`). */
  readonly socketErrors: string[] = [];
  private readonly waiters: Array<() => void> = [];
  private closedWith: { code: number; reason: string } | null = null;

  private constructor(readonly rt: OpenAIRealtimeWS | BetaRealtimeWS) {
    (rt as OpenAIRealtimeWS).on('event', (event) => {
      this.events.push(event as AnyEvent);
      this.wake();
    });
    (rt as OpenAIRealtimeWS).on('error', (error: Error & { error?: unknown }) => {
      // Server `error` events carry `.error`; the others are the socket's own.
      if (!error.error) this.socketErrors.push(error.message);
    });
    rt.socket.on('close', (code: number, reason: Buffer) => {
      this.closedWith = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async connect({ port, ca, apiKey = 'test-key', beta = false, model = 'cascade' }: ConnectOptions): Promise<RealtimeTestClient> {
    const client = new OpenAI({ apiKey, baseURL: `https://127.0.0.1:${port}/v1` });
    const rt = beta ? new BetaRealtimeWS({ model, options: { ca } }, client) : new OpenAIRealtimeWS({ model, options: { ca } }, client);
    const harness = new RealtimeTestClient(rt);
    await new Promise<void>((resolve, reject) => {
      rt.socket.once('open', () => resolve());
      rt.socket.once('error', reject);
    });
    return harness;
  }

  send(event: Record<string, unknown>): void {
    this.rt.socket.send(JSON.stringify(event));
  }

  /** Sends 24 kHz (or `rateHz`) PCM16 as input_audio_buffer.append events of `chunkMs`. */
  appendPcm(pcm: Int16Array, chunkMs = 40, rateHz = 24000): void {
    const step = Math.round((rateHz * chunkMs) / 1000);
    for (let at = 0; at < pcm.length; at += step) {
      this.send({ type: 'input_audio_buffer.append', audio: Buffer.from(bytesFromPcm16(pcm.subarray(at, at + step))).toString('base64') });
    }
  }

  /** The first event of `type` (after `from`) that matches, waiting up to `timeoutMs`. */
  async next(type: string, match: (e: AnyEvent) => boolean = () => true, timeoutMs = 20_000, from = 0): Promise<AnyEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find((e) => e.type === type && match(e));
      if (found) return found;
      if (this.closedWith) throw new Error(`the socket closed (${this.closedWith.code} ${this.closedWith.reason}) before ${type}; saw: ${this.summary()}`);
      if (Date.now() > deadline) throw new Error(`no ${type} within ${timeoutMs} ms; saw: ${this.summary()}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  all(type: string): AnyEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Event types in order with runs of deltas collapsed to one. */
  types(from = 0): string[] {
    return this.events
      .slice(from)
      .map((e) => e.type)
      .filter((t, i, all) => !(t.endsWith('.delta') && all[i - 1] === t));
  }

  summary(): string {
    return this.types()
      .map((t) => (t === 'error' ? `error(${JSON.stringify(this.events.find((e) => e.type === 'error')?.error)})` : t))
      .join(', ');
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    const closed = new Promise<void>((resolve) => this.rt.socket.once('close', () => resolve()));
    this.rt.close({ code: 1000, reason: 'done' });
    await closed;
  }

  get closed(): { code: number; reason: string } | null {
    return this.closedWith;
  }

  private wake(): void {
    this.waiters.splice(0).forEach((resolve) => resolve());
  }
}
