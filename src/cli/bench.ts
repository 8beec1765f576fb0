/**
 * `voice-gateway bench`: N callers speak to a gateway at once over gRPC and the latencies are
 * measured at the client (src/bench/). With `--spawn-server` it starts its own gateway with the
 * simulated providers; the profile's known latencies turn measured latency into gateway overhead.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../config/schema.js';
import { CallerAudio } from '../bench/caller.js';
import { expectedLatency, type TurnWindows } from '../bench/expected-latency.js';
import { runLevel, type LevelOptions, type LevelReport } from '../bench/load-level.js';
import { ProgressLine } from '../bench/progress.js';
import { runRamp } from '../bench/ramp.js';
import { formatResumeRounds, runResumeBench } from '../bench/resume-bench.js';
import { formatLevel, formatRamp, type BenchReport } from '../bench/report.js';
import { ServerResources } from '../bench/server-resources.js';
import { spawnGateway, type SpawnedGateway } from '../bench/spawned-gateway.js';
import { builtInUtterance, utteranceFromWav } from '../bench/utterance.js';
import { simulatedReplyTokens } from '../providers/simulated/llm.js';
import { loadSimulatedProfile, type SimulatedProfile } from '../providers/simulated/profile.js';
import { simulatedSpeechMs } from '../providers/simulated/tts.js';
import { phoneCallers } from '../bench/phone-level.js';

export interface BenchFlags {
  server: string;
  /** grpc (voice.v1), or a phone carrier's protocol: twilio, asterisk, jambonz. */
  transport?: string;
  spawnServer?: boolean;
  serverLog?: string;
  metricsUrl?: string;
  profile: string;
  sessions: string;
  durationS?: string;
  turns?: string;
  in?: string;
  chunkMs: string;
  pauseMs: string;
  bargeIn?: boolean;
  bargeInAfterMs: string;
  toolLatencyMs?: string;
  spreadS?: string;
  replyTimeoutS: string;
  ramp?: boolean;
  budgetMs: string;
  rampStart: string;
  rampMax: string;
  rampRefine: string;
  json?: string;
  /** The interruption suite instead of the load bench (bench-scenarios.ts). */
  scenarios?: string;
  count: string;
  concurrency: string;
  seed: string;
  kinds?: string;
  resume?: boolean;
  redisUrl?: string;
}

/** A gateway just started settles this long before its resting memory is read. */
const IDLE_SETTLE_MS = 2000;

/** A whole number flag within bounds, or an error that says which flag and what is accepted. */
function intFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return n;
}

/** The CLI entry beside this file, run by child processes (built: .js; under tsx: .ts). */
function cliEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `entry${path.extname(here)}`);
}

/** One turn's length for a caller, from the profile: how long to spread the callers' start over. */
function turnCycleMs(profile: SimulatedProfile, speechEndMs: number, pauseMs: number, bargeInAfterMs: number | null): number {
  const replyText = simulatedReplyTokens(profile.llm, [{ role: 'user', content: 'a question' }]).join('');
  const replyMs = bargeInAfterMs ?? simulatedSpeechMs(profile.tts, replyText) + pauseMs;
  return speechEndMs + 1000 + replyMs;
}

export async function runBench(flags: BenchFlags): Promise<void> {
  if (flags.scenarios !== undefined) {
    const { runScenarioBench } = await import('./bench-scenarios.js');
    return runScenarioBench({ ...flags, scenarios: flags.scenarios }, cliEntry());
  }
  const sessions = intFlag('sessions', flags.sessions, 1, 100_000);
  if (flags.resume) {
    if (!flags.redisUrl) throw new Error('--resume needs --redis-url: the Redis the two spawned gateways share (e.g. redis://127.0.0.1:6379/0)');
    const rounds = await runResumeBench({ entry: cliEntry(), profile: flags.profile, redisUrl: flags.redisUrl, sessions, logFile: flags.serverLog });
    process.stdout.write(formatResumeRounds(rounds, sessions));
    if (flags.json) await writeFile(flags.json, `${JSON.stringify({ sessions, rounds }, null, 2)}
`);
    return;
  }
  const turns = flags.turns === undefined ? null : intFlag('turns', flags.turns, 1, 100_000);
  const durationS = turns !== null && flags.durationS === undefined ? null : intFlag('duration-s', flags.durationS ?? '30', 1, 86_400);
  const chunkMs = intFlag('chunk-ms', flags.chunkMs, 10, 1000);
  const pauseMs = intFlag('pause-ms', flags.pauseMs, 0, 60_000);
  const bargeInAfterMs = flags.bargeIn ? intFlag('barge-in-after-ms', flags.bargeInAfterMs, 0, 60_000) : null;
  const toolLatencyMs = flags.toolLatencyMs === undefined ? null : intFlag('tool-latency-ms', flags.toolLatencyMs, 0, 60_000);
  const replyTimeoutMs = intFlag('reply-timeout-s', flags.replyTimeoutS, 1, 3600) * 1000;
  const profile = loadSimulatedProfile(flags.profile, '--profile');
  const utterance = flags.in ? await utteranceFromWav(flags.in, profile.vad.speechThresholdDbfs) : builtInUtterance();
  const audio = new CallerAudio(utterance, chunkMs);
  const transport = flags.transport ?? 'grpc';
  if (transport !== 'grpc' && transport !== 'twilio' && transport !== 'asterisk' && transport !== 'jambonz') throw new Error(`--transport must be grpc, twilio, asterisk or jambonz; got ${JSON.stringify(transport)}`);
  if (transport !== 'grpc' && chunkMs !== 20) throw new Error('--chunk-ms must be 20 with a phone transport: carriers send 20 ms of audio per message');
  const spreadMs = sessions === 1 ? 0 : flags.spreadS !== undefined ? intFlag('spread-s', flags.spreadS, 0, 3600) * 1000 : turnCycleMs(profile, utterance.speechEndMs, pauseMs, bargeInAfterMs);

  let spawned: SpawnedGateway | null = null;
  const stopSpawned = () => spawned?.stop() ?? Promise.resolve();
  const onSignal = () => {
    stopSpawned().then(() => process.exit(130), () => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    if (flags.spawnServer) {
      process.stderr.write(`starting a gateway with simulated providers (profile ${flags.profile})...\n`);
      spawned = await spawnGateway({ entry: cliEntry(), profile: flags.profile, logFile: flags.serverLog });
    }
    const server = transport === 'grpc' ? (spawned?.grpcAddress ?? flags.server) : (spawned?.httpAddress ?? flags.server);
    const phone = transport === 'grpc' ? null : await phoneCallers(transport, server, utterance, profile, { pauseMs, bargeInAfterMs, replyTimeoutMs });
    const metricsUrl = flags.metricsUrl ?? spawned?.metricsUrl ?? null;
    const resources = metricsUrl ? new ServerResources(metricsUrl) : null;
    const idle = resources ? await resources.idleSample(spawned ? IDLE_SETTLE_MS : 0) : null;
    if (resources && !idle) process.stderr.write('the gateway already holds sessions: memory per session is not measured\n');
    const maxPieceChars = Number(process.env.TTS_MAX_PIECE_CHARS ?? SETTINGS.TTS_MAX_PIECE_CHARS.default);
    const speechMs = utterance.speechEndMs - utterance.speechStartMs;
    const progress = new ProgressLine();

    const runAt = async (n: number): Promise<LevelReport> => {
      const options: LevelOptions = {
        server,
        sessions: n,
        durationS,
        turns,
        spreadMs: n === 1 ? 0 : spreadMs,
        audio,
        pauseMs,
        bargeInAfterMs,
        toolLatencyMs,
        replyTimeoutMs,
        expect: (windows: TurnWindows) => expectedLatency(profile, windows, speechMs, maxPieceChars, toolLatencyMs),
        resources,
        idleResidentBytes: idle?.residentBytes ?? null,
        onProgress: (status) => progress.update(status),
        createCaller: phone ?? undefined,
      };
      progress.start(`${n} sessions`, (n === 1 ? 0 : spreadMs) / 1000 + (durationS ?? 0));
      try {
        return await runLevel(options);
      } finally {
        progress.stop();
      }
    };

    const report: BenchReport = {
      command: ['voice-gateway', 'bench', ...process.argv.slice(process.argv.indexOf('bench') + 1)].join(' '),
      transport,
      started_at: new Date().toISOString(),
      server: { address: server, spawned: spawned !== null, metrics_url: metricsUrl },
      profile,
      utterance: { source: utterance.source, speech_ms: speechMs, chunk_ms: chunkMs },
      settings: { duration_s: durationS, turns, spread_ms: spreadMs, pause_ms: pauseMs, barge_in_after_ms: bargeInAfterMs, tool_latency_ms: toolLatencyMs },
      runs: [],
      ramp: null,
    };
    if (flags.ramp) {
      report.ramp = await runRamp(
        async (n) => {
          const level = await runAt(n);
          process.stdout.write(formatLevel(level));
          return level;
        },
        {
          startSessions: intFlag('ramp-start', flags.rampStart, 1, 100_000),
          maxSessions: intFlag('ramp-max', flags.rampMax, 1, 100_000),
          factor: 2,
          budgetMs: intFlag('budget-ms', flags.budgetMs, 0, 60_000),
          refineSteps: intFlag('ramp-refine', flags.rampRefine, 0, 20),
        },
      );
      process.stdout.write(formatRamp(report.ramp));
    } else {
      const level = await runAt(sessions);
      report.runs.push(level);
      process.stdout.write(formatLevel(level));
    }
    if (flags.json) await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    const failed = [...report.runs, ...(report.ramp?.steps ?? [])].every((level) => level.turns === 0);
    if (failed) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    await stopSpawned();
  }
}
