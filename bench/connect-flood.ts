/**
 * Start latency of a session while others flood the gateway with connections. A probe opens a
 * gRPC session (Converse, start, until ready) every 50 ms, first on a quiet gateway, then while a
 * flood of Realtime connections (24 kHz, the transport whose sessions once built two resamplers
 * each at connect) arrives with up to `--parallel` connects in flight. It reports the probe's
 * start latency in both phases and the flood's own connect-to-session.created latency.
 *
 *   node --import tsx bench/connect-flood.ts [--flood 1000] [--parallel 100] [--json out.json]
 *
 * The gateway is `serve` with simulated providers (as `bench --spawn-server` starts it) and no
 * session cap. Run it under `flock /tmp/vg-heavy.lock` on a shared machine. Figures: BENCHMARKS.md.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { spawnGateway } from '../src/bench/spawned-gateway.js';
import { percentiles, type Percentiles } from '../src/bench/stats.js';
import { openIdleSession, type IdleSession } from '../test/support/idle-sessions.js';

const { values } = parseArgs({ options: { flood: { type: 'string', default: '1000' }, parallel: { type: 'string', default: '100' }, json: { type: 'string' } } });
const floodSize = Number(values.flood);
const parallel = Number(values.parallel);
const PROBE_EVERY_MS = 50;
const QUIET_PROBES = 40;
const entry = fileURLToPath(new URL('../src/cli/entry.ts', import.meta.url));

const gateway = await spawnGateway({ entry, profile: 'zero-latency', env: { LOG_LEVEL: 'warn' } });
const ports = { grpc: Number(gateway.grpcAddress.split(':')[1]), http: Number(new URL(gateway.metricsUrl).port) };
const probeClient = new grpc.Client(gateway.grpcAddress, grpc.credentials.createInsecure());

/** One probe session: ms from the call's start to its ready event. */
async function probe(): Promise<number> {
  const startedAt = performance.now();
  const session = await openIdleSession('grpc', ports, probeClient);
  const ms = performance.now() - startedAt;
  session.close();
  return ms;
}

async function probesWhile(running: () => boolean, max = Infinity): Promise<number[]> {
  const samples: number[] = [];
  while (running() && samples.length < max) {
    samples.push(await probe());
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
  return samples;
}

let result: { quiet: Percentiles; duringFlood: Percentiles; flood: Percentiles & { seconds: number; failed: number } };
try {
  await probesWhile(() => true, 5); // warm-up
  const quiet = await probesWhile(() => true, QUIET_PROBES);

  const floodLatencies: number[] = [];
  const opened: IdleSession[] = [];
  let failed = 0;
  let flooding = true;
  const floodStartedAt = performance.now();
  const flood = (async () => {
    let next = 0;
    const worker = async () => {
      while (next < floodSize) {
        next++;
        const startedAt = performance.now();
        try {
          opened.push(await openIdleSession('realtime', ports));
          floodLatencies.push(performance.now() - startedAt);
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    flooding = false;
  })();
  const duringFlood = await probesWhile(() => flooding);
  await flood;
  const floodSeconds = (performance.now() - floodStartedAt) / 1000;
  for (const s of opened) s.close();
  result = { quiet: percentiles(quiet), duringFlood: percentiles(duringFlood), flood: { ...percentiles(floodLatencies), seconds: floodSeconds, failed } };
} finally {
  probeClient.close();
  await gateway.stop();
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const row = (name: string, p: Percentiles) => `| ${name} | ${p.count} | ${p.p50} | ${p.p95} | ${p.p99} | ${p.max} |\n`;
process.stdout.write(`Machine: ${cpu}, ${os.availableParallelism()} cores; Node ${process.version}. Flood: ${floodSize} Realtime connections, ${parallel} in flight, over ${result.flood.seconds.toFixed(1)} s (${result.flood.failed} failed).\n\n`);
process.stdout.write('| start latency (ms) | samples | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|\n');
process.stdout.write(row('probe (gRPC), quiet gateway', result.quiet));
process.stdout.write(row('probe (gRPC), during the flood', result.duringFlood));
process.stdout.write(row('flood connections (Realtime: connect to session.created)', result.flood));
if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
