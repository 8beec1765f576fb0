/**
 * What a Smart Turn end-of-turn decision costs on this machine: latency (the question asked to the
 * answer back on the event loop) and CPU, with one session asking at a time and with several
 * asking at once (they share the one model thread), plus the event-loop delay meanwhile (the
 * model runs in its worker thread, so it should stay that of an idle loop).
 *
 * No real Smart Turn weights can be downloaded on the project's machines, so by default this
 * measures a model the test support writes with the real model's interface and architecture
 * size (Whisper-Tiny encoder: 2 convolutions, 4 layers of width 384, 6 heads; attention pooling
 * and a small classifier; ~8 M weights, float32, 32 MB; random weights). The real CPU build is
 * int8 (8.7 MB), which onnxruntime usually runs faster than float32; give its file with
 * --model to measure it instead.
 *
 *   node --import tsx bench/smart-turn-cost.ts [--model file.onnx] [--questions 200] [--concurrent 4] [--no-write]
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentiles, type Percentiles } from '../src/bench/stats.js';
import { SmartTurnModel } from '../src/providers/turn/smart-turn.js';
import { whisperTinySizedModel } from '../test/support/smart-turn-models.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    questions: { type: 'string', default: '200' },
    concurrent: { type: 'string', default: '4' },
    'no-write': { type: 'boolean', default: false },
  },
});
const questions = Number(values.questions);
const concurrent = Number(values.concurrent);
const RATE = 16000;

/** A turn: 3 s of a voiced tone, then 300 ms of silence (the model sees the pause). */
function turnAudio(seed: number): Int16Array {
  const pcm = new Int16Array(3.3 * RATE);
  const hz = 150 + (seed % 7) * 20;
  for (let i = 0; i < 3 * RATE; i++) pcm[i] = Math.round(6000 * (0.7 + 0.3 * Math.sin((2 * Math.PI * 4 * i) / RATE)) * Math.sin((2 * Math.PI * hz * i) / RATE));
  return pcm;
}

async function measure(model: SmartTurnModel, count: number, atOnce: number): Promise<{ latency: Percentiles; compute: Percentiles; cpuMsPerQuestion: number; loop: Percentiles }> {
  const latency: number[] = [];
  const compute: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  let next = 0;
  const asker = async () => {
    for (let i = next++; i < count; i = next++) {
      const askedAt = performance.now();
      const answer = await model.predict(turnAudio(i), new AbortController().signal);
      latency.push(performance.now() - askedAt);
      compute.push(answer.computeMs);
    }
  };
  await Promise.all(Array.from({ length: atOnce }, asker));
  const cpu = process.cpuUsage(cpuBefore);
  loop.disable();
  const loopMs = [loop.percentile(50) / 1e6, loop.percentile(99) / 1e6, loop.max / 1e6];
  return {
    latency: percentiles(latency),
    compute: percentiles(compute),
    cpuMsPerQuestion: (cpu.user + cpu.system) / 1000 / count,
    loop: { count: loop.count, p50: round(loopMs[0]!), p95: round(loop.percentile(95) / 1e6), p99: round(loopMs[1]!), max: round(loopMs[2]!) },
  };
}

const round = (v: number) => Math.round(v * 10) / 10;

const dir = await mkdtemp(join(os.tmpdir(), 'smart-turn-cost-'));
try {
  const modelPath = values.model ?? whisperTinySizedModel(join(dir, 'whisper-tiny-sized.onnx'));
  const what = values.model ? `the model file ${values.model}` : 'a Whisper-Tiny-sized float32 model written by test/support/smart-turn-models.ts (random weights, 32 MB)';
  const model = await SmartTurnModel.load({ modelPath });
  await measure(model, 10, 1); // warm
  const alone = await measure(model, questions, 1);
  const together = await measure(model, questions, concurrent);
  await model.release();

  const cpu = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}`;
  const p = (x: Percentiles) => `${x.p50} / ${x.p99}`;
  // A session's cost: a turn every ~6 s of conversation, two questions a turn (the second when the first said "incomplete").
  const perSessionCpuPercent = ((alone.cpuMsPerQuestion * 2) / 6000) * 100;
  const command = `node --import tsx bench/smart-turn-cost.ts${values.model ? ` --model ${values.model}` : ''} --questions ${questions} --concurrent ${concurrent}`;
  const table = [
    `### Smart Turn end-of-turn decision (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Command: \`${command}\` (under \`flock /tmp/vg-heavy.lock\`, other helpers' work running on the machine). Machine: ${cpu}. Model: ${what}; one onnxruntime thread, in the model's worker thread.`,
    '',
    '| | decision latency p50 / p99 (ms) | model thread time p50 / p99 (ms) | CPU per decision (ms) | event-loop delay p50 / p99 (ms) |',
    '|---|---|---|---|---|',
    `| 1 session asking at a time (${questions} decisions) | ${p(alone.latency)} | ${p(alone.compute)} | ${round(alone.cpuMsPerQuestion)} | ${p(alone.loop)} |`,
    `| ${concurrent} sessions asking at once (${questions} decisions) | ${p(together.latency)} | ${p(together.compute)} | ${round(together.cpuMsPerQuestion)} | ${p(together.loop)} |`,
    '',
    `CPU per session: ${round(alone.cpuMsPerQuestion)} ms a decision; at a turn every 6 s and two decisions a turn, ${perSessionCpuPercent.toFixed(1)} % of one core per talking session. ` +
      'Decisions queue on the one model thread: with several sessions deciding at the same moment, each waits for those before it (the second row). ' +
      'The event-loop delay is that of the loop with the model busy in its thread (10 ms sampling resolution included).',
    '',
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (!values['no-write']) await appendFile(new URL('../BENCHMARKS.md', import.meta.url), `\n${table}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
