/**
 * A single-consumer async queue: `push` never blocks, the consumer awaits with `for await`.
 * Optionally bounded by a size measure (bytes, say): a push past the bound is refused, so a
 * consumer that stops reading is noticed instead of buffered without limit.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private queuedSize = 0;
  private waiter: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly maxSize = Infinity,
    private readonly sizeOf: (item: T) => number = () => 1,
  ) {}

  /** Queues `item`; false (and nothing queued) if the queue is closed or would pass its bound. */
  push(item: T): boolean {
    if (this.closed) return false;
    const size = this.sizeOf(item);
    if (this.queuedSize + size > this.maxSize) return false;
    this.items.push(item);
    this.queuedSize += size;
    this.wake();
    return true;
  }

  /** No more items: the consumer drains what is queued, then its loop ends. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Total size of what waits for the consumer. */
  get size(): number {
    return this.queuedSize;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        this.queuedSize -= this.sizeOf(item);
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
