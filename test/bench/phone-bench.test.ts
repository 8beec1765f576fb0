/**
 * `voice-gateway bench --transport twilio|asterisk|jambonz` for a few turns against a gateway it spawns:
 * phone callers speak the carrier protocol, every utterance gets a reply, barge-ins are answered
 * with clear / FLUSH_MEDIA / killAudio. No assertion on timings.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Level = { turns: number; connected: number; errors: { count: number }; barge_in: { count: number; missed: number; to_done_ms: { p50: number | null } }; server: { mb_per_session: number } | null };

async function bench(args: string[]): Promise<{ report: { transport: string; runs: Level[] }; stdout: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'phone-bench-'));
  const out = join(dir, 'out.json');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'bench', '--spawn-server', ...args, '--json', out], { cwd: ROOT, timeout: 180_000 });
  return { report: JSON.parse(await readFile(out, 'utf8')) as { transport: string; runs: Level[] }, stdout };
}

void describe('voice-gateway bench over phone transports', () => {
  let profile: string;
  before(async () => {
    profile = join(await mkdtemp(join(tmpdir(), 'phone-bench-')), 'short.json');
    await writeFile(profile, JSON.stringify({ extends: 'nvidia-blueprint', name: 'short replies', llm: { replyWords: 8 } }));
  });

  void it('twilio: 2 callers x 2 turns with barge-in, every turn answered, barge-ins cleared', async () => {
    const { report, stdout } = await bench(['--transport', 'twilio', '--profile', profile, '--sessions', '2', '--spread-s', '1', '--turns', '2', '--barge-in', '--barge-in-after-ms', '300']);
    assert.equal(report.transport, 'twilio');
    const level = report.runs[0]!;
    assert.equal(level.connected, 2);
    assert.equal(level.turns, 4, 'every utterance got a reply');
    assert.equal(level.errors.count, 0, JSON.stringify(level.errors));
    assert.ok(level.barge_in.count >= 1 && level.barge_in.missed === 0, JSON.stringify(level.barge_in));
    assert.match(stdout, /barge-in: onset -> interrupted/);
    assert.equal(typeof level.server?.mb_per_session, 'number', 'memory per call read from /metrics');
  });

  void it('asterisk: 1 caller x 2 turns, every turn answered', async () => {
    const { report } = await bench(['--transport', 'asterisk', '--profile', profile, '--sessions', '1', '--turns', '2', '--pause-ms', '100']);
    const level = report.runs[0]!;
    assert.equal(level.turns, 2);
    assert.equal(level.errors.count, 0, JSON.stringify(level.errors));
  });

  void it('jambonz: 1 caller x 2 turns with barge-in, every turn answered, barge-ins killed', async () => {
    const { report } = await bench(['--transport', 'jambonz', '--profile', profile, '--sessions', '1', '--turns', '2', '--barge-in', '--barge-in-after-ms', '300']);
    assert.equal(report.transport, 'jambonz');
    const level = report.runs[0]!;
    assert.equal(level.turns, 2, 'every utterance got a reply');
    assert.equal(level.errors.count, 0, JSON.stringify(level.errors));
    assert.ok(level.barge_in.count >= 1 && level.barge_in.missed === 0, JSON.stringify(level.barge_in));
  });

  void it('a phone transport with another chunk length is refused', async () => {
    await assert.rejects(bench(['--transport', 'twilio', '--chunk-ms', '40']), /--chunk-ms must be 20 with a phone transport/);
  });
});
