/**
 * One clock for every caller's microphone: each caller sends a chunk every `chunkMs`, at the
 * moment a real microphone would have it (the end of the chunk). One timer for all callers keeps
 * the load generator cheap; callers are spread over `phases` offsets inside a chunk so that the
 * gateway does not get every caller's chunk in the same millisecond, as it would not from real
 * clients. A late wake-up sends late but never skips audio; the lateness is reported.
 */
export interface MicListener {
  /** Send the chunk that ends at `dueAt` (performance.now() ms). */
  tick(dueAt: number): void;
}

export class MicClock {
  private readonly groups: Array<Set<MicListener>>;
  private readonly slotMs: number;
  private added = 0;
  private timer: NodeJS.Timeout | undefined;
  private slot = 0;
  private startedAt = 0;
  private running = false;

  constructor(
    readonly chunkMs: number,
    readonly phases = 5,
  ) {
    this.groups = Array.from({ length: phases }, () => new Set<MicListener>());
    this.slotMs = chunkMs / phases;
  }

  add(listener: MicListener): void {
    this.groups[this.added++ % this.groups.length]!.add(listener);
  }

  remove(listener: MicListener): void {
    for (const group of this.groups) group.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = performance.now();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (!this.running) return;
    const dueAt = this.startedAt + (this.slot + 1) * this.slotMs;
    this.timer = setTimeout(() => this.fire(dueAt), Math.max(0, dueAt - performance.now()));
  }

  private fire(dueAt: number): void {
    const group = this.groups[this.slot % this.groups.length]!;
    this.slot++;
    for (const listener of [...group]) listener.tick(dueAt);
    this.schedule();
  }
}
