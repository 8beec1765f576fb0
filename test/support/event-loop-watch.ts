/** Watches the event loop with a fast timer: how often it ran, and the longest gap between runs. */
export interface EventLoopWatch {
  readonly ticks: number;
  readonly maxGapMs: number;
  stop(): void;
}

export function watchEventLoop(periodMs = 5): EventLoopWatch {
  let ticks = 0;
  let maxGapMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks++;
  }, periodMs);
  return {
    get ticks() {
      return ticks;
    },
    get maxGapMs() {
      return maxGapMs;
    },
    stop: () => clearInterval(timer),
  };
}
