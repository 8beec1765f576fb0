/**
 * `--ramp`: raise the number of sessions (×factor) until the p99 overhead passes the budget (or a
 * level has errors), then bisect between the last level within budget and the first past it.
 * The answer is the last level within budget: the capacity of this gateway on this machine.
 */
import type { LevelReport } from './load-level.js';

export interface RampOptions {
  startSessions: number;
  maxSessions: number;
  factor: number;
  budgetMs: number;
  /** Bisection levels run after the first level past budget. */
  refineSteps: number;
}

export interface RampReport {
  budget_ms: number;
  /** The most sessions that stayed within budget with no errors; null when even the first did not. */
  max_sessions_within_budget: number | null;
  /** The fewest sessions that did not. */
  first_sessions_over_budget: number | null;
  why_stopped: string;
  /** Resident memory per added session: the slope of resident MB over sessions across the rising levels. */
  mb_per_session_slope: number | null;
  /** Sessions per core of gateway CPU at the last level within budget. */
  sessions_per_core: number | null;
  steps: LevelReport[];
}

/** Why a level is not within budget, or null when it is. */
export function overBudget(level: LevelReport, budgetMs: number): string | null {
  if (level.connected < level.sessions) return `${level.sessions - level.connected} of ${level.sessions} sessions could not start`;
  if (level.errors.count > 0) return `${level.errors.count} errors (${Object.keys(level.errors.by_code).join(', ')})`;
  const p99 = level.overhead_ms.p99;
  if (p99 === null) return 'no turn completed';
  if (p99 > budgetMs) return `p99 overhead ${p99} ms > ${budgetMs} ms`;
  return null;
}

export async function runRamp(runAt: (sessions: number) => Promise<LevelReport>, options: RampOptions): Promise<RampReport> {
  const steps: LevelReport[] = [];
  let good: number | null = null;
  let bad: number | null = null;
  let why = `reached --ramp-max ${options.maxSessions} within budget`;
  for (let n = options.startSessions; n <= options.maxSessions; n = Math.max(n + 1, Math.round(n * options.factor))) {
    const level = await runAt(n);
    steps.push(level);
    const over = overBudget(level, options.budgetMs);
    if (over === null) {
      good = n;
      continue;
    }
    bad = n;
    why = `${n} sessions: ${over}`;
    break;
  }
  // Memory is read over the rising levels only: a bisection level runs in a heap already grown by
  // the level above it, which would flatten the slope.
  const rising = [...steps];
  for (let i = 0; i < options.refineSteps && good !== null && bad !== null && bad - good > 1; i++) {
    const n = Math.round((good + bad) / 2);
    const level = await runAt(n);
    steps.push(level);
    const over = overBudget(level, options.budgetMs);
    if (over === null) good = n;
    else {
      bad = n;
      why = `${n} sessions: ${over}`;
    }
  }
  const best = steps.find((level) => level.sessions === good)?.server;
  return {
    budget_ms: options.budgetMs,
    max_sessions_within_budget: good,
    first_sessions_over_budget: bad,
    why_stopped: why,
    mb_per_session_slope: memorySlope(rising),
    sessions_per_core: good !== null && best && best.cpu_cores > 0 ? Math.round((good / best.cpu_cores) * 10) / 10 : null,
    steps,
  };
}

/** Least-squares slope of resident MB over sessions (null with fewer than two measured levels). */
export function memorySlope(steps: LevelReport[]): number | null {
  const points = steps.flatMap((s) => (s.server ? [[s.sessions, s.server.resident_mb] as const] : []));
  if (new Set(points.map(([x]) => x)).size < 2) return null;
  const meanX = points.reduce((a, [x]) => a + x, 0) / points.length;
  const meanY = points.reduce((a, [, y]) => a + y, 0) / points.length;
  const num = points.reduce((a, [x, y]) => a + (x - meanX) * (y - meanY), 0);
  const den = points.reduce((a, [x]) => a + (x - meanX) ** 2, 0);
  return Math.round((num / den) * 1000) / 1000;
}
