/**
 * Waiting for the simulated providers. Timers fire on a millisecond clock that may run up to a
 * millisecond behind performance.now(), so a plain setTimeout can end a simulated latency early;
 * a profile's latencies are lower bounds the gateway cannot beat, so these waits never end early.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves at performance.now() >= `at`, or at once when `signal` aborts. */
export async function waitUntil(at: number, signal: AbortSignal): Promise<void> {
  for (let leftMs = at - performance.now(); leftMs > 0 && !signal.aborted; leftMs = at - performance.now()) {
    await delay(Math.max(1, leftMs), undefined, { signal }).catch(() => undefined); // rejects on abort
  }
}
