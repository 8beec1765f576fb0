/**
 * Waits for a condition that something else makes true (a server sees a cancellation, a provider
 * was abandoned), checking every `pollMs`: the one place tests wait for a state they cannot be
 * told about. Never a timed assertion: the limit only turns a hang into a failure that says what
 * was awaited, and it is long, since the machine may be loaded.
 */
import { setTimeout as delay } from 'node:timers/promises';

export async function waitUntil(condition: () => boolean, what = 'the condition', timeoutMs = 5000, pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await delay(pollMs);
  }
}
