/**
 * One 20 ms clock for every paced call in the process (AudioSocket and the Asterisk WebSocket
 * send reply audio at the pace a caller hears it): one timer, scheduled on absolute due times so
 * it does not drift, instead of a timer per call. A late wake-up runs every tick that is due, so
 * no frame of audio is skipped, only sent late.
 */
export const FRAME_MS = 20;

export type TickListener = () => void;

class FrameClock {
  private readonly listeners = new Set<TickListener>();
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;

  add(listener: TickListener): void {
    this.listeners.add(listener);
    if (this.timer === undefined) {
      this.nextAt = performance.now() + FRAME_MS;
      this.schedule();
    }
  }

  remove(listener: TickListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.nextAt - performance.now()));
    this.timer.unref();
  }

  private fire(): void {
    // Ticks owed since the last wake-up, capped so a process paused for minutes does not burst.
    const owed = Math.min(50, Math.max(1, Math.floor((performance.now() - this.nextAt) / FRAME_MS) + 1));
    this.nextAt += owed * FRAME_MS;
    for (let i = 0; i < owed; i++) for (const listener of [...this.listeners]) listener();
    if (this.listeners.size > 0) this.schedule();
    else this.timer = undefined;
  }
}

/** The process's clock. */
export const frameClock = new FrameClock();
