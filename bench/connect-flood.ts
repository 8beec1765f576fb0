/**
 * Start latency of a session while others flood the gateway with connections. A probe opens a
 * gRPC session (Converse, start, until ready) every 50 ms, first on a quiet gateway, then while a
 * flood of Realtime connections (24 kHz, the transport whose sessions once built two resampler
 * instances each at connect) arrives at `--rate` per second. The flood runs in a worker thread,
 * so its own work does not delay the probe's clock (the three still share the machine's cores).
 * It reports the probe's start latency in both phases, the flood's connect-to-session.created
 * latency, and the gateway's CPU time per flood connection (from /proc).
 *
 *   node --import tsx bench/connect-flood.ts [--flood 1000] [--rate 200] [--json out.json]
 *
 * The gateway is `serve` with simulated providers (as `bench --spawn-server` starts it) and no
 * session cap. Run it under `flock /tmp/vg-heavy.lock` on a shared machine. Figures: BENCHMARKS.md.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { spawnGateway } from '../src/bench/spawned-gateway.js';
import { percentiles, type Percentiles } from '../src/bench/stats.js';
import { openIdleSession, type IdleSession } from '../test/support/idle-sessions.js';

interface FloodJob {
  httpPort: number;
  count: number;
  ratePerS: number;
}
interface FloodResult {
  latenciesMs: number[];
  failed: number;
  seconds: number;
}

if (!isMainThread) {
  // The flood: `count` Realtime connections, one every 1/rate s, each kept open (idle) until the end.
  const { httpPort, count, ratePerS } = workerData as FloodJob;
  const opened: IdleSession[] = [];
  const latenciesMs: number[] = [];
  let failed = 0;
  const startedAt = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const due = startedAt + (i * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const connectAt = performance.now();
    pending.push(
      openIdleSession('realtime', { grpc: 0, http: httpPort }).then(
        (session) => {
          opened.push(session);
          latenciesMs.push(performance.now() - connectAt);
        },
        () => {
          failed++;
        },
      ),
    );
  }
  await Promise.all(pending);
  const result: FloodResult = { latenciesMs, failed, seconds: (performance.now() - startedAt) / 1000 };
  parentPort!.postMessage(result);
  for (const s of opened) s.close();
  await new Promise((r) => setTimeout(r, 500));
  process.exit(0);
}

const { values } = parseArgs({ options: { flood: { type: 'string', default: '1000' }, rate: { type: 'string', default: '200' }, json: { type: 'string' } } });
const floodSize = Number(values.flood);
const ratePerS = Number(values.rate);
const PROBE_EVERY_MS = 50;
const QUIET_PROBES = 40;
const entry = fileURLToPath(new URL('../src/cli/entry.ts', import.meta.url));

/** CPU seconds (user + system) the process `pid` has used, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const ticksPerS = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerS;
}

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

let result: { quiet: Percentiles; duringFlood: Percentiles; flood: Percentiles & { seconds: number; failed: number; gatewayCpuMsPerConnection: number } };
try {
  await probesWhile(() => true, 5); // warm-up
  const quiet = await probesWhile(() => true, QUIET_PROBES);
  const cpuBefore = await cpuSeconds(gateway.pid);
  let flooding = true;
  const worker = new Worker(new URL(import.meta.url), { workerData: { httpPort: ports.http, count: floodSize, ratePerS } satisfies FloodJob });
  const flood = new Promise<FloodResult>((resolve, reject) => {
    worker.once('message', (message: FloodResult) => {
      flooding = false;
      resolve(message);
    });
    worker.once('error', reject);
  });
  const duringFlood = await probesWhile(() => flooding);
  const floodResult = await flood;
  const cpuUsed = (await cpuSeconds(gateway.pid)) - cpuBefore;
  await new Promise((resolve) => worker.once('exit', resolve));
  result = {
    quiet: percentiles(quiet),
    duringFlood: percentiles(duringFlood),
    flood: { ...percentiles(floodResult.latenciesMs), seconds: floodResult.seconds, failed: floodResult.failed, gatewayCpuMsPerConnection: (cpuUsed * 1000) / floodSize },
  };
} finally {
  probeClient.close();
  await gateway.stop();
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const row = (name: string, p: Percentiles) => `| ${name} | ${p.count} | ${p.p50} | ${p.p95} | ${p.p99} | ${p.max} |\n`;
process.stdout.write(
  `Machine: ${cpu}, ${os.availableParallelism()} cores; Node ${process.version}. Flood: ${floodSize} Realtime connections at ${ratePerS}/s, over ${result.flood.seconds.toFixed(1)} s (${result.flood.failed} failed); gateway CPU ${result.flood.gatewayCpuMsPerConnection.toFixed(2)} ms per flood connection.\n\n`,
);
process.stdout.write('| start latency (ms) | samples | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|\n');
process.stdout.write(row('probe (gRPC), quiet gateway', result.quiet));
process.stdout.write(row('probe (gRPC), during the flood', result.duringFlood));
process.stdout.write(row('flood connections (Realtime: connect to session.created)', result.flood));
if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
