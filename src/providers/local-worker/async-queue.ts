/**
 * A single-consumer push queue exposed as an AsyncIterator: the producer pushes values, ends it, or
 * fails it; the consumer awaits `next()`. Used to turn worker-thread messages into the providers'
 * async iterables.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private done = false;
  private error: unknown;
  private failed = false;

  /** Called once when the consumer stops early (`return()`/`break`). */
  constructor(private readonly onReturn?: () => void) {}

  get closed(): boolean {
    return this.done || this.failed;
  }

  push(item: T): void {
    if (this.closed) return;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Ends the iteration after the items already queued. */
  end(): void {
    if (this.closed) return;
    this.done = true;
    this.settleWaiter();
  }

  /** Ends the iteration at once, dropping queued items. */
  endNow(): void {
    this.items.length = 0;
    this.end();
  }

  /** The consumer gets the items already queued, then this error. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failed = true;
    this.error = error;
    this.settleWaiter();
  }

  private settleWaiter(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    if (this.failed) {
      // Report the error once; later calls just end.
      this.failed = false;
      this.done = true;
      w.reject(asError(this.error));
    } else {
      w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
    if (this.failed) {
      // Report the error once; later calls just end.
      const e = this.error;
      this.failed = false;
      this.done = true;
      return Promise.reject(asError(e));
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('AsyncQueue: concurrent next() calls'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    const wasOpen = !this.closed;
    this.endNow();
    if (wasOpen) this.onReturn?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
