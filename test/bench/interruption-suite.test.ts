/**
 * The interruption suite, small: `voice-gateway bench --scenarios interruptions` against a gateway
 * it spawns with the simulated providers, over real gRPC. It runs the kinds the gateway passes
 * today and must report 0 violations with exit code 0; the full run (1,000 scenarios, every
 * kind) is a bench command (BENCHMARKS.md).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('a short interruption suite: scenarios over gRPC, counts per invariant and kind, exit 0 without violations', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'interruption-suite-'));
  const json = join(dir, 'report.json');
  const kinds = ['cough_before_reply', 'disconnect_mid_reply'];
  const args = ['--import', 'tsx', 'src/cli/entry.ts', 'bench', '--scenarios', 'interruptions', '--count', '4', '--concurrency', '4', '--kinds', kinds.join(','), '--spawn-server', '--json', json];
  const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 240_000 }).catch((e: { stdout: string; stderr: string; code: number }) => {
    assert.fail(`exit ${e.code}\n${e.stdout}\n${e.stderr}`);
  });
  assert.match(stdout, /^4 scenarios, 0 violations$/m);
  const report = JSON.parse(await readFile(json, 'utf8')) as { scenarios: number; violations: number; by_kind: Record<string, { scenarios: number }>; by_invariant: Record<string, { violations: number }> };
  assert.equal(report.scenarios, 4);
  assert.equal(report.violations, 0);
  assert.deepEqual(Object.keys(report.by_kind), kinds);
  assert.ok(Object.values(report.by_kind).every((k) => k.scenarios === 2));
  assert.ok('history_is_heard_text' in report.by_invariant && 'answers_next_question' in report.by_invariant);
});
