/**
 * `voice-gateway bench --scenarios interruptions`: the interruption suite (src/bench/scenarios/)
 * against a gateway, by default one it spawns with the simulated providers and a profile made for
 * it: replies that start late enough to be interrupted before their first audio (first token at
 * 400 ms), long enough to be interrupted anywhere (30 words, about 7 s) in a brisk voice (40 ms
 * per character) so that a scenario takes seconds.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatScenarioReport, runScenarios } from '../bench/scenarios/run-scenarios.js';
import { spawnGateway, type SpawnedGateway } from '../bench/spawned-gateway.js';
import { profileFromJson } from '../providers/simulated/profile.js';

export interface ScenarioFlags {
  scenarios: string;
  count: string;
  concurrency: string;
  seed: string;
  kinds?: string;
  server: string;
  spawnServer?: boolean;
  serverLog?: string;
  json?: string;
}

const SCENARIO_PROFILE = { extends: 'nvidia-blueprint', name: 'interruption-suite', llm: { firstTokenMs: 400, replyWords: 30 }, tts: { msPerChar: 40 } };
/** The same, with an LLM and a TTS that go on after abort (provider_ignores_abort). */
const STUBBORN_PROFILE = { ...SCENARIO_PROFILE, name: 'interruption-suite-stubborn', llm: { ...SCENARIO_PROFILE.llm, ignoresAbort: true }, tts: { ...SCENARIO_PROFILE.tts, ignoresAbort: true } };

function intFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return n;
}

export async function runScenarioBench(flags: ScenarioFlags, cliEntry: string): Promise<void> {
  if (flags.scenarios !== 'interruptions') throw new Error(`--scenarios ${JSON.stringify(flags.scenarios)} is not a suite: use interruptions`);
  const count = intFlag('count', flags.count, 1, 1_000_000);
  const concurrency = intFlag('concurrency', flags.concurrency, 1, 1000);
  const seed = intFlag('seed', flags.seed, 0, 2 ** 31);
  const profile = profileFromJson(SCENARIO_PROFILE, 'the interruption suite profile');
  const dir = await mkdtemp(path.join(tmpdir(), 'vg-scenarios-'));
  let spawned: SpawnedGateway | null = null;
  let stubborn: SpawnedGateway | null = null;
  try {
    if (flags.spawnServer) {
      const [profileFile, stubbornFile] = [path.join(dir, 'profile.json'), path.join(dir, 'stubborn.json')];
      await writeFile(profileFile, JSON.stringify(SCENARIO_PROFILE));
      await writeFile(stubbornFile, JSON.stringify(STUBBORN_PROFILE));
      process.stderr.write('starting two gateways with simulated providers for the interruption suite (one whose providers ignore aborts)...\n');
      [spawned, stubborn] = await Promise.all([
        spawnGateway({ entry: cliEntry, profile: profileFile, logFile: flags.serverLog }),
        spawnGateway({ entry: cliEntry, profile: stubbornFile, logFile: flags.serverLog }),
      ]);
    }
    const startedAt = performance.now();
    const report = await runScenarios({
      server: spawned?.grpcAddress ?? flags.server,
      ...(stubborn ? { stubbornServer: stubborn.grpcAddress } : {}),
      count,
      concurrency,
      seed,
      kinds: flags.kinds?.split(',').map((k) => k.trim()),
      msPerChar: profile.tts.msPerChar,
      onProgress: (done, violations) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${done}/${count} scenarios, ${violations} violations`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    // The gateways' own count of false interruptions (Prometheus), beside the resumes the callers saw.
    if (spawned && stubborn) report.false_interruptions.counted_by_gateways = (await falseInterruptionsCounted(spawned.metricsUrl)) + (await falseInterruptionsCounted(stubborn.metricsUrl));
    const command = ['voice-gateway', 'bench', ...process.argv.slice(process.argv.indexOf('bench') + 1)].join(' ');
    process.stdout.write(`${command}\n${formatScenarioReport(report)}took ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`);
    if (flags.json) await writeFile(flags.json, `${JSON.stringify({ command, seed, ...report }, null, 2)}\n`);
    if (report.violations > 0) process.exitCode = 1;
  } finally {
    await Promise.all([spawned?.stop(), stubborn?.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** voice_gateway_false_interruptions_total as a gateway's GET /metrics says it. */
async function falseInterruptionsCounted(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  const value = /^voice_gateway_false_interruptions_total (\S+)$/m.exec(text)?.[1];
  if (value === undefined) throw new Error(`${metricsUrl} has no voice_gateway_false_interruptions_total`);
  return Number(value);
}
