/** Percentiles of latency samples, as the bench reports them. */

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * Nearest-rank percentiles (the sample at rank ceil(p × n)): every reported value was measured,
 * none is interpolated. With few samples p99 is the maximum, which is the honest answer.
 */
export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => round1(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round1(sorted[sorted.length - 1]!) };
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
