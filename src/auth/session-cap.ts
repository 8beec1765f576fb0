/**
 * The default process-wide session cap (MAX_SESSIONS unset): what this machine can hold, so that a
 * flood of connections is refused with a retryable error instead of taking the memory and CPU
 * every session needs. Derived from two budgets, the smaller wins:
 *
 * - memory: half of the memory the process may use (its cgroup limit in a container, else the
 *   machine's), at SESSION_MEMORY_BUDGET_BYTES per session: the most one session may hold by its
 *   own bounds (inbound and outbound queues at their defaults, a frame, resamplers, buffers);
 * - CPU: SESSIONS_PER_CORE per core. One core kept a simulated-backend session's gateway overhead
 *   under 100 ms p99 up to about 50 talking sessions (BENCHMARKS.md, capacity ramp on 2 cores with
 *   the load generator on the same cores); idle and listening sessions cost far less, and a cap is
 *   a guard against exhaustion, not a latency target, so it allows four times that.
 *
 * Set MAX_SESSIONS to the figure your own `voice-gateway bench --ramp` finds, or 0 for no cap.
 */
import { availableParallelism, totalmem } from 'node:os';

export const SESSION_MEMORY_BUDGET_BYTES = 32 * 1024 * 1024;
export const SESSIONS_PER_CORE = 200;
/** The share of the memory given to sessions; the rest is the process's own (models, heap, buffers). */
const MEMORY_SHARE = 0.5;

export interface HostResources {
  memoryBytes: number;
  cores: number;
}

/** The memory this process may use (cgroup limit, else the machine's) and its cores. */
export function hostResources(): HostResources {
  const constrained = process.constrainedMemory?.() ?? 0;
  const machine = totalmem();
  // cgroup v2 "max" shows as a huge number: only a limit below the machine's memory counts.
  const memoryBytes = constrained > 0 && constrained < machine ? constrained : machine;
  return { memoryBytes, cores: availableParallelism() };
}

export function defaultMaxSessions({ memoryBytes, cores }: HostResources): number {
  const byMemory = Math.floor((memoryBytes * MEMORY_SHARE) / SESSION_MEMORY_BUDGET_BYTES);
  const byCores = Math.max(1, cores) * SESSIONS_PER_CORE;
  return Math.max(1, Math.min(byMemory, byCores));
}
