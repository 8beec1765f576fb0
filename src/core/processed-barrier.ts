/**
 * Client events taken and processed, and a barrier on them: `settled()` resolves once every event
 * taken before the call has been processed. Tests wait on it before they check that something did
 * not happen (a wait on an event, never on time).
 */
export class ProcessedBarrier {
  private taken = 0;
  private processed = 0;
  private readonly waiters: Array<{ upTo: number; wake: () => void }> = [];

  /** An event was queued. */
  took(): void {
    this.taken++;
  }

  /** An event was processed (whatever came of it). */
  processedOne(): void {
    this.processed++;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.upTo <= this.processed) this.waiters.splice(i, 1)[0]!.wake();
    }
  }

  settled(): Promise<void> {
    if (this.processed >= this.taken) return Promise.resolve();
    return new Promise((wake) => this.waiters.push({ upTo: this.taken, wake }));
  }

  /** Nothing more will be processed (the session closed): every waiter goes on. */
  releaseAll(): void {
    for (const { wake } of this.waiters.splice(0)) wake();
  }
}
