/**
 * `voice-gateway bench` for a few seconds at small N against a gateway it spawns with the simulated
 * providers: it runs, prints its table and writes well-formed JSON. No assertion on timings.
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

async function bench(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'bench', ...args], { cwd: ROOT, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const PERCENTILE_KEYS = ['count', 'max', 'p50', 'p95', 'p99'];
const LEVEL_KEYS = ['barge_in', 'client', 'connected', 'errors', 'expected_ms', 'overhead_ms', 'server', 'server_voice_to_voice_ms', 'sessions', 'speculative', 'turns', 'voice_to_voice_ms', 'window_s'];

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => {
  assert.equal(typeof value, 'object');
  assert.notEqual(value, null);
  return value as Json;
};

function assertPercentiles(value: unknown, name: string): void {
  assert.deepEqual(Object.keys(obj(value)).sort(), PERCENTILE_KEYS, name);
}

function assertLevel(level: Json): void {
  assert.deepEqual(Object.keys(level).sort(), LEVEL_KEYS);
  for (const key of ['voice_to_voice_ms', 'overhead_ms', 'server_voice_to_voice_ms']) assertPercentiles(level[key], key);
  const bargeIn = obj(level.barge_in);
  for (const key of ['to_last_audio_ms', 'to_done_ms', 'overhead_ms']) assertPercentiles(bargeIn[key], `barge_in.${key}`);
  assert.equal(typeof bargeIn.count, 'number');
  assertPercentiles(obj(level.client).send_lag_ms, 'client.send_lag_ms');
  const expected = obj(level.expected_ms);
  for (const key of ['endOfTurnMs', 'asrFinalMs', 'llmFirstPieceMs', 'ttsFirstByteMs', 'voiceToVoiceMs', 'speculativeVoiceToVoiceMs', 'bargeInMs']) assert.equal(typeof expected[key], 'number', key);
  const speculative = obj(level.speculative);
  assert.equal((speculative.hit as number) + (speculative.miss as number) + (speculative.none as number), level.turns, 'every turn is a hit, a miss or neither');
  const server = obj(level.server); // the spawned gateway's /metrics was read
  for (const key of ['cpu_cores', 'cpu_percent_per_session', 'resident_mb', 'mb_per_session']) assert.equal(typeof server[key], 'number', `server.${key}`);
}

void describe('voice-gateway bench', () => {
  let dir: string;
  let profile: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-'));
    profile = join(dir, 'short-replies.json');
    // Short replies keep each turn to a few seconds.
    await writeFile(profile, JSON.stringify({ extends: 'nvidia-blueprint', name: 'short replies', llm: { replyWords: 6 } }));
  });

  void it('2 callers x 2 turns against a spawned gateway: a table on stdout and JSON with every key', async () => {
    const out = join(dir, 'two.json');
    const { code, stdout, stderr } = await bench(['--spawn-server', '--profile', profile, '--sessions', '2', '--spread-s', '1', '--turns', '2', '--pause-ms', '100', '--json', out]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /voice to voice \(ms\)/);
    assert.match(stdout, /overhead \(ms\)/);
    const report = obj(JSON.parse(await readFile(out, 'utf8')));
    assert.deepEqual(Object.keys(report).sort(), ['command', 'profile', 'ramp', 'runs', 'server', 'settings', 'started_at', 'transport', 'utterance']);
    assert.equal(report.transport, 'grpc');
    assert.equal(obj(report.profile).name, 'short replies');
    assert.equal(obj(report.server).spawned, true);
    assert.equal(report.ramp, null);
    const runs = report.runs as Json[];
    assert.equal(runs.length, 1);
    const level = runs[0]!;
    assertLevel(level);
    assert.equal(level.sessions, 2);
    assert.equal(level.connected, 2);
    assert.equal(level.turns, 4, 'every utterance got a reply');
    assert.equal(obj(level.errors).count, 0, JSON.stringify(level.errors));
  });

  void it('--barge-in speaks during replies and reports barge-ins', async () => {
    const out = join(dir, 'barge.json');
    const { code, stderr } = await bench(['--spawn-server', '--profile', profile, '--sessions', '2', '--spread-s', '1', '--turns', '2', '--barge-in', '--barge-in-after-ms', '300', '--json', out]);
    assert.equal(code, 0, stderr);
    const report = obj(JSON.parse(await readFile(out, 'utf8')));
    assert.equal(obj(report.settings).barge_in_after_ms, 300);
    const level = (report.runs as Json[])[0]!;
    assertLevel(level);
    assert.equal(level.turns, 4, 'the barge-in utterances are turns too');
    const bargeIn = obj(level.barge_in);
    assert.ok((bargeIn.count as number) + (bargeIn.missed as number) <= 2, 'one barge-in per caller at most');
  });

  void it('--tool-latency-ms adds one tool round trip per turn: the caller\'s tool, called by the simulated LLM', async () => {
    const out = join(dir, 'tools.json');
    const { code, stdout, stderr } = await bench(['--spawn-server', '--profile', profile, '--sessions', '2', '--spread-s', '1', '--turns', '2', '--pause-ms', '100', '--tool-latency-ms', '50', '--json', out]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\+ tool round 176 \(LLM call \+ tool\)/);
    const report = obj(JSON.parse(await readFile(out, 'utf8')));
    assert.equal(obj(report.settings).tool_latency_ms, 50);
    const level = (report.runs as Json[])[0]!;
    assertLevel(level);
    assert.equal(level.turns, 4, 'every turn went through its tool round and got a reply');
    assert.equal(obj(level.errors).count, 0, JSON.stringify(level.errors));
    assert.equal(obj(level.expected_ms).toolRoundMs, 126 + 50, 'the LLM\'s call (its first token) and the tool');
  });

  void it('--ramp runs each level and names the last one within budget', async () => {
    const out = join(dir, 'ramp.json');
    const { code, stdout, stderr } = await bench(['--spawn-server', '--profile', profile, '--ramp', '--ramp-start', '1', '--ramp-max', '2', '--spread-s', '1', '--turns', '1', '--budget-ms', '60000', '--json', out]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /last within budget: 2 sessions/);
    const ramp = obj(obj(JSON.parse(await readFile(out, 'utf8'))).ramp);
    const steps = ramp.steps as Json[];
    assert.deepEqual(steps.map((s) => s.sessions), [1, 2]);
    steps.forEach(assertLevel);
    assert.equal(ramp.max_sessions_within_budget, 2);
    assert.equal(ramp.first_sessions_over_budget, null);
    assert.equal(typeof ramp.mb_per_session_slope, 'number');
  });

  void it('a bad flag or profile is a clear error before anything starts', async () => {
    const sessions = await bench(['--sessions', '0']);
    assert.notEqual(sessions.code, 0);
    assert.match(sessions.stderr, /--sessions must be a whole number from 1 to/);
    const unknown = await bench(['--profile', 'gpu-cluster']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /--profile="gpu-cluster".*nvidia-blueprint, zero-latency/);
  });
});
