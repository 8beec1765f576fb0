/**
 * Concurrent sessions on the local engines: does one session's recognition and synthesis delay
 * another's audio? Starts the gateway in this process on the local engines (Silero VAD,
 * pocketsphinx, espeak-ng), with the scripted OpenAI-compatible LLM of test/support (or the server
 * at LLM_BASE_URL, if set), runs N concurrent `ask` sessions, each speaking one flite question,
 * for a number of rounds, and measures:
 * - the event-loop delay of this process (perf_hooks.monitorEventLoopDelay) during the rounds;
 * - each turn's latencies as the gateway reports them (eou_delay_ms, asr_final_ms, tts_ttfb_ms,
 *   voice_to_voice_ms, llm_ttft_ms).
 * The figures are printed and appended to BENCHMARKS.md with the command that made them.
 *
 *   node --import tsx bench/local-sessions.ts [--sessions 4] [--rounds 5] [--no-write]
 *
 * The `ask` clients run in this process too, so the event-loop delay is that of the gateway plus
 * its clients: an upper bound for the gateway alone.
 */
import { appendFile, access, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentiles, type Percentiles } from '../src/bench/stats.js';
import { ask, type AskResult } from '../src/client/ask-client.js';
import { loadConfig } from '../src/config/load.js';
import { startGateway } from '../src/server.js';
import { startScriptedOpenAiServer } from '../test/support/scripted-openai-server.js';
import { speechFixture } from '../test/support/speech-fixtures.js';

const QUESTIONS = [
  'what is the weather like in paris today',
  'please turn off the lights in the kitchen',
  'what time is it in new york',
  'how far is the moon from the earth',
];
const REPLY = 'It is sunny and mild today, with a light breeze from the west. Enjoy your afternoon.';
/** The scripted LLM: first token after this long, then one word token every TOKEN_DELAY_MS. */
const FIRST_TOKEN_DELAY_MS = 100;
const TOKEN_DELAY_MS = 20;
/** monitorEventLoopDelay samples with a timer of this period; its values include the period. */
const LOOP_RESOLUTION_MS = 10;
const METRICS = ['eou_delay_ms', 'asr_final_ms', 'llm_ttft_ms', 'tts_ttfb_ms', 'voice_to_voice_ms'] as const;
/**
 * A session ends once nothing happened for this long after its reply: longer than the gateway's
 * wait for a late final transcript (ASR_FINAL_WAIT_MS, 1.5 s), so no turn is cut off by the client.
 */
const SETTLE_MS = 3000;

const { values: flags } = parseArgs({
  options: {
    sessions: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '5' },
    'no-write': { type: 'boolean', default: false },
  },
});
const sessions = positiveInt('--sessions', flags.sessions);
const rounds = positiveInt('--rounds', flags.rounds);

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`${name} ${JSON.stringify(value)}: use a whole number from 1 to 64`);
  return n;
}

const external = process.env.LLM_BASE_URL;
const scripted = external ? null : await startScriptedOpenAiServer({ reply: REPLY, firstTokenDelayMs: FIRST_TOKEN_DELAY_MS, tokenDelayMs: TOKEN_DELAY_MS });
const config = loadConfig({
  ...process.env,
  HOST: '127.0.0.1',
  GRPC_PORT: '0',
  HTTP_PORT: '0',
  LOG_LEVEL: 'warn',
  LLM_PROVIDER: 'openai',
  LLM_BASE_URL: external ?? scripted!.baseUrl,
  VAD_PROVIDER: 'silero',
  ASR_PROVIDER: 'pocketsphinx',
  TTS_PROVIDER: 'espeak',
});
const gateway = await startGateway({ config });
const server = `127.0.0.1:${gateway.grpcPort}`;
const fixtures = await Promise.all(QUESTIONS.map((q) => speechFixture(q)));

process.stderr.write(`local-sessions: ${sessions} concurrent sessions x ${rounds} rounds on ${server}\n`);
const results: Array<{ question: string; result: AskResult }> = [];
// The machine may be shared: its load says how much of the delay others may have caused.
const loadBefore = os.loadavg()[0]!;
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
const cpuBefore = process.cpuUsage();
const startedAt = performance.now();
loop.enable();
for (let round = 1; round <= rounds; round++) {
  const batch = await Promise.all(
    Array.from({ length: sessions }, async (_, i) => {
      const question = QUESTIONS[i % QUESTIONS.length]!;
      const result = await ask({ server, pcm: fixtures[i % fixtures.length]!, sampleRateHz: 16000, settleMs: SETTLE_MS });
      return { question, result };
    }),
  );
  results.push(...batch);
  process.stderr.write(`  round ${round}: ${batch.map((b) => JSON.stringify(b.result.turns[0]?.transcript ?? '(none)')).join(', ')}\n`);
}
loop.disable();
const wallMs = performance.now() - startedAt;
const cpu = process.cpuUsage(cpuBefore);
await gateway.close();
await scripted?.close();

// Values include the sampling period; the delay is what came on top of it.
const loopMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
const loopDelay = { p50: loopMs(loop.percentile(50)), p99: loopMs(loop.percentile(99)), max: loopMs(loop.max) };
const turns = results.flatMap((r) => r.result.turns);
const errors = results.flatMap((r) => r.result.errors);
const exact = results.filter((r) => r.result.turns[0]?.transcript === r.question).length;
const latency = Object.fromEntries(
  METRICS.map((name) => [name, percentiles(turns.map((t) => t.metrics[name]).filter((v): v is number => typeof v === 'number'))]),
) as Record<(typeof METRICS)[number], Percentiles>;
const cpuPercent = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;

const fmt = (v: number | null) => (v === null ? '-' : String(Math.round(v)));
const command = `node --import tsx bench/local-sessions.ts --sessions ${sessions} --rounds ${rounds}`;
const llmLine = external
  ? `LLM: the OpenAI-compatible server at ${external} (model ${config.LLM_MODEL}).`
  : `LLM: the scripted OpenAI-compatible server of test/support (first token after ${FIRST_TOKEN_DELAY_MS} ms, then a word every ${TOKEN_DELAY_MS} ms).`;
const section = [
  '',
  `## Local engines: ${sessions} concurrent sessions (${new Date().toISOString().slice(0, 10)})`,
  '',
  '```sh',
  command,
  '```',
  '',
  `Machine: ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.availableParallelism()} cores; Node ${process.version}. ` +
    `Gateway in-process on Silero VAD (${config.VAD_MODEL}), pocketsphinx, espeak-ng; the ${sessions} \`ask\` clients in the same process, ` +
    `each speaking one flite (slt) question per round at real-time pace, ${rounds} rounds. ${llmLine}`,
  '',
  `Event-loop delay of the process during the rounds (monitorEventLoopDelay, ${LOOP_RESOLUTION_MS} ms resolution, minus that period): ` +
    `**p50 ${loopDelay.p50.toFixed(1)} ms, p99 ${loopDelay.p99.toFixed(1)} ms, max ${loopDelay.max.toFixed(1)} ms**. ` +
    `Process CPU ${Math.round(cpuPercent)} % of one core over ${(wallMs / 1000).toFixed(1)} s; machine load average ${loadBefore.toFixed(1)} before the run.`,
  '',
  `Turns: ${turns.length} (${exact} of ${results.length} transcripts word for word right), errors: ${errors.length}.`,
  '',
  '| per turn (ms) | p50 | p95 | max |',
  '|---|---|---|---|',
  ...METRICS.map((name) => `| ${name} | ${fmt(latency[name].p50)} | ${fmt(latency[name].p95)} | ${fmt(latency[name].max)} |`),
  '',
].join('\n');

process.stdout.write(`${section}\n`);
for (const e of errors) process.stderr.write(`error ${e.code}: ${e.message}\n`);
if (!flags['no-write']) {
  const file = new URL('../BENCHMARKS.md', import.meta.url);
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (!exists) await writeFile(file, '# Benchmarks\n\nMeasured figures, each with the command that produced it; newest at the bottom.\n');
  await appendFile(file, section);
  process.stderr.write('local-sessions: appended to BENCHMARKS.md\n');
}
