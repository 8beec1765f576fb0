/**
 * What the two WebSocket transports (voice.v1 at /v1/voice, OpenAI Realtime at /v1/realtime)
 * share: the event sink the pump writes to, with the socket's buffer as the high-water mark, and
 * a socket class that gives an oversized frame's close (1009) a reason a person can act on.
 */
import { WebSocket } from 'ws';
import type { ServerEvent } from '../../core/events.js';
import type { EventSink } from '../event-pump.js';

/**
 * Bytes the socket may hold before the pump waits. The bound that counts is the session's
 * outbound queue (OUTBOUND_QUEUE_MAX_BYTES); this is only the socket's share, like a stream's
 * highWaterMark, kept small so that the queue sees a slow reader early.
 */
const SEND_HIGH_WATER_BYTES = 64 * 1024;
const MESSAGE_TOO_BIG = 1009;

/** An EventSink over `ws`; `encode` turns one event into the frames to send. */
export function webSocketSink(ws: WebSocket, encode: (event: ServerEvent) => Array<string | Uint8Array>): EventSink {
  // Woken by each send's callback (the frame reached the socket) once the buffer is low again.
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const resolve of waiters) resolve();
    waiters.clear();
  };
  ws.once('close', wake);
  return {
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
    send(event) {
      for (const frame of encode(event)) {
        ws.send(frame, { binary: typeof frame !== 'string' }, () => {
          if (ws.bufferedAmount < SEND_HIGH_WATER_BYTES) wake();
        });
      }
      return ws.bufferedAmount < SEND_HIGH_WATER_BYTES;
    },
    drained: (stop) =>
      new Promise<void>((resolve) => {
        waiters.add(resolve);
        stop.addEventListener('abort', () => waiters.delete(resolve), { once: true });
      }),
  };
}

/**
 * `ws` closes on an oversized frame with code 1009 and an empty reason; a server may choose its
 * WebSocket class, and this one fills in `reason` (already cut to a close frame's limit).
 */
export function socketClassWithOversizeReason(reason: string | Buffer): typeof WebSocket {
  return class extends WebSocket {
    override close(code?: number, data?: string | Buffer): void {
      super.close(code, code === MESSAGE_TOO_BIG && data === undefined ? reason : data);
    }
  };
}
