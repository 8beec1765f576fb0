/**
 * A single-consumer push queue read as an async iterator: producers push, end or fail it; one
 * consumer awaits `next()` (or `for await`). Optionally bounded by a size measure (bytes, say): a
 * push past the bound is refused, so a consumer that stops reading is noticed instead of buffered
 * without limit.
 */
export interface AsyncQueueOptions<T> {
  /** Largest total size waiting; a push past it is refused. */
  maxSize?: number;
  /** Most items waiting, whatever their size; a push past it is refused. */
  maxItems?: number;
  /** The size of one item (default 1: the bound counts items). */
  sizeOf?: (item: T) => number;
  /** Called once when the consumer stops early (`return()`, `break`). */
  onReturn?: () => void;
}

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  /** The size of each waiting item, measured once when it was pushed. */
  private readonly sizes: number[] = [];
  private queuedSize = 0;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private done = false;
  private failed = false;
  private error: unknown;
  private readonly maxSize: number;
  private readonly maxItems: number;
  private readonly sizeOf: (item: T) => number;

  constructor(private readonly options: AsyncQueueOptions<T> = {}) {
    this.maxSize = options.maxSize ?? Infinity;
    this.maxItems = options.maxItems ?? Infinity;
    this.sizeOf = options.sizeOf ?? (() => 1);
  }

  get closed(): boolean {
    return this.done || this.failed;
  }

  /** Total size of what waits for the consumer. */
  get size(): number {
    return this.queuedSize;
  }

  /** Queues `item`; false (and nothing queued) if the queue is closed or would pass its bound. */
  push(item: T): boolean {
    if (this.closed) return false;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return true;
    }
    const size = this.sizeOf(item);
    if (this.queuedSize + size > this.maxSize || this.items.length >= this.maxItems) return false;
    this.items.push(item);
    this.sizes.push(size);
    this.queuedSize += size;
    return true;
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
    this.sizes.length = 0;
    this.queuedSize = 0;
    this.end();
  }

  /** The consumer gets the items already queued, then this error. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failed = true;
    this.error = error;
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const value = this.items.shift() as T;
      this.queuedSize -= this.sizes.shift()!;
      return Promise.resolve({ value, done: false });
    }
    if (this.failed) return Promise.reject(this.takeError());
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('AsyncQueue: concurrent next() calls'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    const wasOpen = !this.closed;
    this.endNow();
    if (wasOpen) this.options.onReturn?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private settleWaiter(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    if (this.failed) w.reject(this.takeError());
    else w.resolve({ value: undefined, done: true });
  }

  /** The error is reported once; later calls just end. */
  private takeError(): Error {
    this.failed = false;
    this.done = true;
    return this.error instanceof Error ? this.error : new Error(String(this.error));
  }
}
