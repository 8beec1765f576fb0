/**
 * Resident memory per idle session, per transport. For each transport a fresh gateway (`serve`
 * with simulated providers, as `bench --spawn-server` starts it) takes a warm-up of 20 sessions,
 * then N sessions that connect, start and stay silent; the gateway's RSS (/proc) before and after
 * gives the memory per idle session. Also the time the N sessions took to start.
 *
 *   node --import tsx bench/idle-sessions.ts [--sessions 1000] [--parallel 50] [--transports grpc,websocket,realtime] [--json out.json]
 *
 * `--parallel`: sessions starting at once.
 *
 * Run it under `flock /tmp/vg-heavy.lock` on a shared machine. Figures: BENCHMARKS.md.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnGateway } from '../src/bench/spawned-gateway.js';
import { openIdleSessions, residentBytes, TRANSPORTS, type Transport } from '../test/support/idle-sessions.js';

const { values } = parseArgs({
  options: { sessions: { type: 'string', default: '1000' }, parallel: { type: 'string', default: '50' }, transports: { type: 'string', default: TRANSPORTS.join(',') }, json: { type: 'string' } },
});
const sessions = Number(values.sessions);
const transports = values.transports.split(',') as Transport[];
const entry = fileURLToPath(new URL('../src/cli/entry.ts', import.meta.url));

interface Row {
  transport: Transport;
  sessions: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  perSessionKiB: number;
  startSeconds: number;
}

const rows: Row[] = [];
for (const transport of transports) {
  const gateway = await spawnGateway({ entry, profile: 'zero-latency', env: { LOG_LEVEL: 'warn' } });
  try {
    const ports = { grpc: Number(gateway.grpcAddress.split(':')[1]), http: Number(new URL(gateway.metricsUrl).port) };
    for (const s of await openIdleSessions(transport, 20, ports)) s.close();
    await new Promise((r) => setTimeout(r, 1000)); // the warm-up sessions close
    const before = await residentBytes(gateway.pid);
    const startedAt = performance.now();
    const open = await openIdleSessions(transport, sessions, ports, Number(values.parallel));
    const startSeconds = (performance.now() - startedAt) / 1000;
    await new Promise((r) => setTimeout(r, 1000)); // what each session set up after its ready event
    const after = await residentBytes(gateway.pid);
    for (const s of open) s.close();
    const row = { transport, sessions, rssBeforeMiB: before / 2 ** 20, rssAfterMiB: after / 2 ** 20, perSessionKiB: (after - before) / sessions / 1024, startSeconds };
    rows.push(row);
    process.stderr.write(`${transport}: ${row.perSessionKiB.toFixed(1)} KiB per idle session\n`);
  } finally {
    await gateway.stop();
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(`Machine: ${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}. ${sessions} idle sessions per transport.\n\n`);
process.stdout.write('| transport | idle sessions | gateway RSS before / after (MiB) | resident memory per idle session | time to start them all (s) |\n|---|---|---|---|---|\n');
for (const r of rows) {
  process.stdout.write(`| ${r.transport} | ${r.sessions} | ${r.rssBeforeMiB.toFixed(0)} / ${r.rssAfterMiB.toFixed(0)} | **${r.perSessionKiB.toFixed(1)} KiB** | ${r.startSeconds.toFixed(1)} |\n`);
}
if (values.json) await writeFile(values.json, `${JSON.stringify(rows, null, 2)}\n`);
