/**
 * A bare Realtime client over `ws` (no SDK): it sends any text, valid or not, and records every
 * event, so hardening and fuzzing tests can say exactly what went over the wire. Waits are bounded
 * only to stop a broken test from hanging; they never judge speed.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';

export type WireEvent = { type: string; event_id?: string } & Record<string, unknown>;

const WAIT_MS = 30_000;

export interface RawRealtime {
  ws: WebSocket;
  events: WireEvent[];
  /** Resolves with the close code and reason, whoever closed. */
  closed: Promise<{ code: number; reason: string }>;
  send(event: unknown): void;
  sendText(text: string): void;
  /** The first event of `type` at or after index `from` that `match` accepts. */
  next(type: string, match?: (e: WireEvent) => boolean, from?: number): Promise<WireEvent>;
  close(): Promise<void>;
}

export async function connectRawRealtime(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<RawRealtime> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
  const events: WireEvent[] = [];
  let changed: () => void = () => undefined;
  ws.on('message', (data: Buffer) => {
    events.push(JSON.parse(data.toString()) as WireEvent);
    changed();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => undefined); // the close that follows is what tests look at
  await once(ws, 'open');
  return {
    ws,
    events,
    closed,
    send: (event) => ws.send(JSON.stringify(event)),
    sendText: (text) => ws.send(text),
    async next(type, match = () => true, from = 0) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const found = events.slice(from).find((e) => e.type === type && match(e));
        if (found) return found;
        if (ws.readyState === WebSocket.CLOSED) throw new Error(`the socket closed before ${type}; saw ${events.map((e) => e.type).join(', ')}`);
        if (Date.now() > deadline) throw new Error(`no ${type} in ${WAIT_MS} ms; saw ${events.map((e) => e.type).join(', ')}`);
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
}

/** The status and body of an upgrade the server refused with HTTP. */
export function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => undefined);
  });
}
