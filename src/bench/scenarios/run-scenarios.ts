/**
 * `voice-gateway bench --scenarios interruptions --count N`: N randomized scenarios (the kinds of
 * scenario-kinds.ts in turn, each with its own seed), `concurrency` at a time, against a gateway
 * over gRPC; counts per invariant and per kind, the false-interruption figures, and every
 * violation with its seed (rerun one with --seed). Exit code 1 on any violation.
 */
import { percentiles, type Percentiles } from '../stats.js';
import { INVARIANTS, type Invariant } from './invariants.js';
import { ScenarioClient } from './scenario-client.js';
import { KINDS, runScenario, type ScenarioEnv } from './scenario-kinds.js';
import * as pb from '../../gen/voice/v1/voice_pb.js';

export interface ScenarioRunOptions {
  server: string;
  /** A gateway whose simulated providers ignore aborts, for provider_ignores_abort (else that kind is skipped). */
  stubbornServer?: string;
  count: number;
  concurrency: number;
  /** Seed of the first scenario; scenario i uses seed + i. */
  seed: number;
  /** Only these kinds (default: all). */
  kinds?: string[];
  msPerChar: number;
  /** Longest a scenario may take before it counts as a violation (ms). */
  scenarioTimeoutMs?: number;
  onProgress?: (done: number, violations: number) => void;
}

export interface ScenarioReport {
  scenarios: number;
  violations: number;
  by_invariant: Record<Invariant | 'scenario_failed', { violations: number }>;
  by_kind: Record<string, { scenarios: number; violations: number }>;
  /** `counted_by_gateways`: their voice_gateway_false_interruptions_total (Prometheus), when the runner spawned them. */
  false_interruptions: { paused: number; resumed: number; rate: number; resume_ms: Percentiles; counted_by_gateways?: number };
  failures: Array<{ kind: string; seed: number; invariant: string; detail: string }>;
}

export async function runScenarios(options: ScenarioRunOptions): Promise<ScenarioReport> {
  const kinds = options.kinds ?? Object.keys(KINDS).filter((k) => k !== 'provider_ignores_abort' || options.stubbornServer);
  for (const kind of kinds) if (!KINDS[kind]) throw new Error(`no scenario kind "${kind}": use ${Object.keys(KINDS).join(', ')}`);
  const env: ScenarioEnv = {
    connect: (tools) => new ScenarioClient(options.server, { interruptionMode: pb.InterruptionMode.PAUSE }, tools),
    ...(options.stubbornServer ? { connectToStubbornProviders: () => new ScenarioClient(options.stubbornServer!, { interruptionMode: pb.InterruptionMode.PAUSE }) } : {}),
    msPerChar: options.msPerChar,
  };
  const report: ScenarioReport = {
    scenarios: 0,
    violations: 0,
    by_invariant: Object.fromEntries([...INVARIANTS, 'scenario_failed'].map((name) => [name, { violations: 0 }])) as ScenarioReport['by_invariant'],
    by_kind: Object.fromEntries(kinds.map((k) => [k, { scenarios: 0, violations: 0 }])),
    false_interruptions: { paused: 0, resumed: 0, rate: 0, resume_ms: percentiles([]) },
    failures: [],
  };
  const resumeMs: number[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < options.count; i = next++) {
      const kind = kinds[i % kinds.length]!;
      const seed = options.seed + i;
      const record = (invariant: string, detail: string) => {
        report.violations++;
        report.by_invariant[invariant as Invariant].violations++;
        report.by_kind[kind]!.violations++;
        report.failures.push({ kind, seed, invariant, detail });
      };
      try {
        const outcome = await withTimeout(runScenario(kind, seed, env), options.scenarioTimeoutMs ?? 120_000);
        for (const v of outcome.violations) record(v.invariant, v.detail);
        report.false_interruptions.paused += outcome.paused;
        report.false_interruptions.resumed += outcome.resumed;
        resumeMs.push(...outcome.resumeMs);
      } catch (error) {
        record('scenario_failed', error instanceof Error ? error.message : String(error));
      }
      report.scenarios++;
      report.by_kind[kind]!.scenarios++;
      options.onProgress?.(report.scenarios, report.violations);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  const fi = report.false_interruptions;
  fi.rate = fi.paused === 0 ? 0 : fi.resumed / fi.paused;
  fi.resume_ms = percentiles(resumeMs);
  return report;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the scenario took longer than ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function formatScenarioReport(r: ScenarioReport): string {
  const lines = [`${r.scenarios} scenarios, ${r.violations} violations`, '', 'invariant                    violations'];
  for (const [name, { violations }] of Object.entries(r.by_invariant)) lines.push(`  ${name.padEnd(27)}${String(violations).padStart(10)}`);
  lines.push('', 'kind                         scenarios  violations');
  for (const [name, k] of Object.entries(r.by_kind)) lines.push(`  ${name.padEnd(27)}${String(k.scenarios).padStart(9)}${String(k.violations).padStart(12)}`);
  const fi = r.false_interruptions;
  lines.push(
    '',
    `pauses ${fi.paused}, resumed ${fi.resumed} (false-interruption rate ${(fi.rate * 100).toFixed(1)} % of pauses)`,
    `time to resume after the sound ended: p50 ${fi.resume_ms.p50} ms, p99 ${fi.resume_ms.p99} ms (${fi.resume_ms.count} resumes)`,
  );
  if (fi.counted_by_gateways !== undefined) lines.push(`voice_gateway_false_interruptions_total on the gateways: ${fi.counted_by_gateways}`);
  for (const f of r.failures.slice(0, 20)) lines.push(`  ${f.kind} seed ${f.seed}: ${f.invariant}: ${f.detail}`);
  if (r.failures.length > 20) lines.push(`  ... and ${r.failures.length - 20} more`);
  return `${lines.join('\n')}\n`;
}
