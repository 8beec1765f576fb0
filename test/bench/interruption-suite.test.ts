/**
 * The interruption suite, small: `voice-gateway bench --scenarios interruptions` against a gateway
 * it spawns with the simulated providers, over real gRPC, sessions in interruption_mode pause. It
 * runs every kind, the false interruptions (backchannel, noise_burst: the reply pauses and
 * resumes, counted in the gateways' voice_gateway_false_interruptions_total) and a barge-in during
 * a client tool call included, and must report 0 violations, the history word-exact, with exit code 0; the
 * full run (1,000 scenarios) is a bench command (BENCHMARKS.md).
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
/** Scenarios of each kind (each with its own seed): 30 in all. */
const PER_KIND = 3;

test('a short interruption suite: scenarios over gRPC, counts per invariant and kind, exit 0 without violations', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'interruption-suite-'));
  const json = join(dir, 'report.json');
  const kinds = ['barge_in_before_first_audio', 'barge_in_mid_piece', 'barge_in_at_piece_boundary', 'barge_in_twice', 'cough_before_reply', 'disconnect_mid_reply', 'provider_ignores_abort', 'backchannel', 'noise_burst', 'barge_in_during_tool_call'];
  const args = ['--import', 'tsx', 'src/cli/entry.ts', 'bench', '--scenarios', 'interruptions', '--count', String(PER_KIND * kinds.length), '--concurrency', String(kinds.length), '--kinds', kinds.join(','), '--spawn-server', '--json', json];
  const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 240_000 }).catch((e: { stdout: string; stderr: string; code: number }) => {
    assert.fail(`exit ${e.code}\n${e.stdout}\n${e.stderr}`);
  });
  assert.match(stdout, new RegExp(`^${PER_KIND * kinds.length} scenarios, 0 violations$`, 'm'));
  const report = JSON.parse(await readFile(json, 'utf8')) as { scenarios: number; violations: number; by_kind: Record<string, { scenarios: number }>; by_invariant: Record<string, { violations: number }> };
  assert.equal(report.scenarios, PER_KIND * kinds.length);
  assert.equal(report.violations, 0);
  assert.deepEqual(Object.keys(report.by_kind), kinds);
  assert.ok(Object.values(report.by_kind).every((k) => k.scenarios === PER_KIND));
  assert.ok(['history_is_heard_text', 'answers_next_question', 'tool_call_cancelled', 'tool_history_valid'].every((name) => name in report.by_invariant));
  const fi = (report as unknown as { false_interruptions: { paused: number; resumed: number; counted_by_gateways: number } }).false_interruptions;
  assert.ok(fi.resumed >= 2, `the backchannel and the noise burst each resumed a paused reply (${fi.resumed} resumes)`);
  // Scraped from the gateways' GET /metrics: every resume a caller saw is counted there.
  assert.ok(fi.counted_by_gateways >= fi.resumed, `voice_gateway_false_interruptions_total ${fi.counted_by_gateways} counts the ${fi.resumed} resumes the callers saw`);
});
