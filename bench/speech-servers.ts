/**
 * Gateway overhead on neural speech servers: for each provider (ASR_PROVIDER and TTS_PROVIDER
 * openai and wyoming), the time from the speech server's first byte of its answer to the first
 * reply audio at the client, against the scripted servers of test/support. The servers run in a
 * process of their own (./speech-servers-process.ts); the gateway and the `ask` clients (gRPC on
 * loopback) in this one. Both moments are read as timeOrigin + performance.now(), a clock the two
 * processes share; the figure includes gRPC to the client.
 *
 * - TTS: typed turns; the LLM and ASR are the zero-latency simulated ones. From the speech server
 *   writing its first PCM bytes (HTTP body; Wyoming `audio-start`) to the client's first
 *   `response_audio`: reading the body, odd-byte carry, resampling 24 kHz (22.05 kHz for Wyoming)
 *   to 16 kHz, the reply, the event pump, gRPC.
 * - ASR: spoken turns (a tone at real-time pace), TURN_END_SOURCE=asr so the final ends the turn;
 *   LLM and TTS are the zero-latency simulated ones. From the server writing the transcript (JSON
 *   answer; Wyoming `transcript`) to the client's first `response_audio`: parsing, the session's
 *   end of turn, the LLM and TTS at zero latency, the event pump, gRPC.
 *
 *   node --import tsx bench/speech-servers.ts [--turns 20] [--no-write]
 */
import { fork } from 'node:child_process';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentiles, type Percentiles } from '../src/bench/stats.js';
import { ask } from '../src/client/ask-client.js';
import { loadConfig } from '../src/config/load.js';
import { startGateway } from '../src/server.js';
import { concat, silence, tone } from '../test/support/scripted-providers.js';
import type { ServerMessage } from './speech-servers-process.js';

const { values } = parseArgs({ options: { turns: { type: 'string', default: '20' }, 'no-write': { type: 'boolean', default: false } } });
const turns = Number(values.turns);
if (!Number.isInteger(turns) || turns < 1) throw new Error(`--turns must be a positive integer; got ${values.turns}`);

// Short replies, so that a turn's playback does not dominate the run.
const profileDir = await mkdtemp(path.join(os.tmpdir(), 'speech-bench-'));
const profile = path.join(profileDir, 'profile.json');
await writeFile(profile, JSON.stringify({ extends: 'zero-latency', llm: { replyWords: 4 }, tts: { msPerChar: 10 } }));

// The speech servers run in a process of their own, as real ones do.
const child = fork(fileURLToPath(new URL('./speech-servers-process.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
const firstBytes: Array<Extract<ServerMessage, { type: 'first_byte' }>> = [];
const ready = await new Promise<Extract<ServerMessage, { type: 'ready' }>>((resolve, reject) => {
  child.on('message', (message: ServerMessage) => (message.type === 'ready' ? resolve(message) : firstBytes.push(message)));
  child.once('exit', (code) => reject(new Error(`the speech servers exited with ${code}`)));
});
const epochNow = () => performance.timeOrigin + performance.now();
const base = {
  HOST: '127.0.0.1',
  GRPC_PORT: '0',
  HTTP_PORT: '0',
  LOG_LEVEL: 'silent',
  WEB_CLIENT_ENABLED: 'false',
  VAD_PROVIDER: 'simulated',
  ASR_PROVIDER: 'simulated',
  LLM_PROVIDER: 'simulated',
  TTS_PROVIDER: 'simulated',
  SIM_PROFILE: profile,
};

type Case = { name: string; env: Record<string, string>; spoken: boolean; server: 'openai' | 'wyoming'; kind: 'asr' | 'tts' };
const CASES: Case[] = [
  { name: 'ASR openai (JSON answer)', server: 'openai', kind: 'asr', spoken: true, env: { ASR_PROVIDER: 'openai', ASR_BASE_URL: ready.speechBaseUrl, ASR_MODEL: 'whisper-small', TURN_END_SOURCE: 'asr' } },
  { name: 'ASR wyoming (transcript event)', server: 'wyoming', kind: 'asr', spoken: true, env: { ASR_PROVIDER: 'wyoming', WYOMING_ASR_URI: ready.wyomingUri, TURN_END_SOURCE: 'asr' } },
  { name: 'TTS openai (PCM body, 24 kHz)', server: 'openai', kind: 'tts', spoken: false, env: { TTS_PROVIDER: 'openai', TTS_BASE_URL: ready.speechBaseUrl, TTS_MODEL: 'kokoro', TTS_VOICE: 'af_bella' } },
  { name: 'TTS wyoming (audio-start, 22.05 kHz)', server: 'wyoming', kind: 'tts', spoken: false, env: { TTS_PROVIDER: 'wyoming', WYOMING_TTS_URI: ready.wyomingUri, TTS_VOICE: 'en_US-lessac-medium' } },
];

const loadBefore = os.loadavg()[0]!;
const rows: Array<{ name: string; overhead: Percentiles; missing: number }> = [];
for (const c of CASES) {
  const gateway = await startGateway({ config: loadConfig({ ...base, ...c.env }) });
  const server = `127.0.0.1:${gateway.grpcPort}`;
  const samples: number[] = [];
  let missing = 0;
  for (let i = 0; i < turns; i++) {
    const since = firstBytes.length;
    let firstAudioAt: number | undefined;
    const result = await ask({
      server,
      pcm: c.spoken ? concat(silence(200), tone(600), silence(400)) : silence(100),
      sampleRateHz: 16000,
      texts: c.spoken ? [] : ['What is the weather like?'],
      settleMs: 300,
      timeoutMs: 30_000,
      onEvent: (response) => {
        if (response.event.case === 'responseAudio') firstAudioAt ??= epochNow();
      },
    });
    // Reported over IPC long before the client's 300 ms of settling is over.
    const serverAt = firstBytes.slice(since).find((b) => b.server === c.server && b.kind === c.kind)?.atEpochMs;
    if (firstAudioAt === undefined || serverAt === undefined || result.errors.length > 0) {
      missing++;
      process.stderr.write(`  ${c.name}: turn ${i + 1} incomplete ${JSON.stringify(result.errors)}\n`);
      continue;
    }
    samples.push(firstAudioAt - serverAt);
  }
  await gateway.close();
  rows.push({ name: c.name, overhead: percentiles(samples), missing });
  process.stderr.write(`speech-servers: ${c.name}: p50 ${percentiles(samples).p50} ms; turn by turn ${samples.map((v) => v.toFixed(1)).join(' ')}\n`);
}
child.disconnect();

const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(1));
const command = `flock /tmp/vg-heavy.lock node --import tsx bench/speech-servers.ts --turns ${turns}`;
const section = [
  '',
  `## Neural speech servers: gateway overhead per provider (${new Date().toISOString().slice(0, 10)})`,
  '',
  '```sh',
  command,
  '```',
  '',
  `Machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores; Node ${process.version}; load average ${loadBefore.toFixed(1)} before the run. ` +
    'Gateway and `ask` clients in this process; the scripted speech servers of test/support (the OpenAI-compatible one, the Wyoming one) in another; loopback; one session per turn. ' +
    'Overhead = the client\'s first `response_audio` minus the moment the speech server wrote the first byte of its answer (the transcript for ASR, the first PCM for TTS), same clock. ' +
    'ASR cases: spoken turns, TURN_END_SOURCE=asr, zero-latency simulated LLM and TTS. TTS cases: typed turns, zero-latency simulated LLM; the scripted servers send 100 ms of audio every 20 ms.',
  '',
  '| provider | turns | p50 ms | p95 ms | p99 ms | max ms |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.name} | ${r.overhead.count}${r.missing ? ` (${r.missing} incomplete)` : ''} | ${fmt(r.overhead.p50)} | ${fmt(r.overhead.p95)} | ${fmt(r.overhead.p99)} | ${fmt(r.overhead.max)} |`),
  '',
].join('\n');
process.stdout.write(section);
if (!values['no-write']) {
  await appendFile(new URL('../BENCHMARKS.md', import.meta.url), section);
  process.stderr.write('speech-servers: appended to BENCHMARKS.md\n');
}
