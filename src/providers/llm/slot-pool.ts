/**
 * A bounded pool of reusable slots (for the local LLM: context sequences). Slots are made lazily
 * up to `maxSlots`; a caller that finds none free waits in line, and the wait ends when a slot is
 * released, when the caller's signal aborts (barge-in) or after `waitTimeoutMs`.
 * Free slots are handed out last-in first-out: the slot used most recently is the likeliest to
 * still hold the prompt prefix of the conversation that comes back next.
 */
export class SlotWaitTimeoutError extends Error {
  override name = 'SlotWaitTimeoutError';
}

type Waiter<T> = { resolve: (slot: T | undefined) => void; reject: (err: unknown) => void };

export class SlotPool<T> {
  private readonly free: T[] = [];
  private readonly waiters: Array<Waiter<T>> = [];
  private made = 0;

  constructor(
    private readonly maxSlots: number,
    private readonly create: () => T,
    private readonly waitTimeoutMs: number,
  ) {}

  /** Slots in use or free, out of `maxSlots`. */
  get size(): number {
    return this.made;
  }

  /** A slot, or undefined when `signal` aborted first. Rejects with SlotWaitTimeoutError. */
  acquire(signal: AbortSignal): Promise<T | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    const ready = this.free.pop();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.made < this.maxSlots) {
      this.made++;
      try {
        return Promise.resolve(this.create());
      } catch (err) {
        this.made--;
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return new Promise<T | undefined>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
      };
      const waiter: Waiter<T> = {
        resolve: (slot) => {
          finish();
          resolve(slot);
        },
        reject: (err) => {
          finish();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      };
      const onAbort = () => waiter.resolve(undefined);
      const timer = setTimeout(
        () => waiter.reject(new SlotWaitTimeoutError(`all ${this.maxSlots} slots stayed busy for ${this.waitTimeoutMs} ms`)),
        this.waitTimeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Gives a slot back: to the first caller waiting, else to the free list. */
  release(slot: T): void {
    const next = this.waiters[0];
    if (next) next.resolve(slot);
    else this.free.push(slot);
  }

  /** A slot that must not be reused (it broke): its place can be filled by a new one. */
  discard(): void {
    this.made--;
    const next = this.waiters[0];
    if (!next) return;
    this.made++;
    try {
      next.resolve(this.create());
    } catch (err) {
      this.made--;
      next.reject(err);
    }
  }

  /** The slots not in use (for disposal). */
  drainFree(): T[] {
    return this.free.splice(0);
  }
}
