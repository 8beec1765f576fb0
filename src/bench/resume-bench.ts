/**
 * `voice-gateway bench --resume`: how long a resume takes, from the moment a caller's connection
 * dies to the first event of its resumed session, with N sessions dropped at once. Two gateways
 * (simulated providers) share one Redis; each caller (the `ask`/`talk` client) talks to A through
 * a network link of its own. Round 1 cuts every link and points them at B: each session is
 * restored from Redis on another replica. Round 2 cuts them again, still to B: each is resumed in
 * the process that holds it.
 */
import { randomBytes } from 'node:crypto';
import { Conversation } from '../client/conversation.js';
import { ReplyPlayer } from '../client/reply-player.js';
import { startTcpProxy, type TcpProxy } from './network-link.js';
import { spawnGateway, type SpawnedGateway } from './spawned-gateway.js';
import { percentiles, type Percentiles } from './stats.js';

export interface ResumeBenchOptions {
  /** The CLI entry that runs `serve` for the two gateways. */
  entry: string;
  profile: string;
  redisUrl: string;
  sessions: number;
  logFile?: string;
}

export interface ResumeRound {
  name: string;
  /** Disconnect to the resumed session's first event, ms. */
  resumeMs: Percentiles;
  resumed: number;
  failed: number;
}

const RATE_HZ = 16000;
const WAIT_MS = 120_000;

export async function runResumeBench(options: ResumeBenchOptions): Promise<ResumeRound[]> {
  const env = { SESSION_STORE: 'redis', REDIS_URL: options.redisUrl, RESUME_SECRET: randomBytes(32).toString('base64url'), REDIS_KEY_PREFIX: `bench-${process.pid}:` };
  const gateways: SpawnedGateway[] = [];
  const links: TcpProxy[] = [];
  const callers: Conversation[] = [];
  try {
    for (let i = 0; i < 2; i++) gateways.push(await spawnGateway({ entry: options.entry, profile: options.profile, env, logFile: options.logFile }));
    const [a, b] = gateways as [SpawnedGateway, SpawnedGateway];
    for (let i = 0; i < options.sessions; i++) {
      const link = await startTcpProxy(a.grpcAddress);
      links.push(link);
      const player = new ReplyPlayer(RATE_HZ, { keepHeard: false });
      callers.push(new Conversation({ server: `127.0.0.1:${link.port}`, inputSampleRateHz: RATE_HZ, outputSampleRateHz: RATE_HZ, player, ownConnection: true }));
    }
    // Every session has a conversation to keep: one exchange each, then quiet.
    for (const caller of callers) caller.sendText('remember this for me');
    await until(() => callers.every((c) => c.turnsSoFar().some((t) => t.response_status !== 'none')), 'every caller had a reply');
    await until(() => callers.every((c) => !c.replying), 'every reply was played');

    const rounds: ResumeRound[] = [];
    for (const [name, upstream] of [
      ['restored from Redis on the other replica', b],
      ['resumed in the process holding it', b],
    ] as const) {
      const before = callers.map((c) => c.resumes.length);
      for (const link of links) {
        link.setUpstream(upstream.grpcAddress);
        link.cutAll();
      }
      await until(() => callers.every((c, i) => c.resumes.length > before[i]! || c.finished), `every caller resumed (${name})`);
      const samples = callers.flatMap((c, i) => (c.resumes.length > before[i]! ? [c.resumes.at(-1)!.resumeMs] : []));
      rounds.push({ name, resumeMs: percentiles(samples), resumed: samples.length, failed: callers.length - samples.length });
    }
    return rounds;
  } finally {
    await Promise.allSettled(callers.map((c) => c.close()));
    for (const link of links) await link.close();
    await Promise.allSettled(gateways.map((g) => g.stop()));
  }
}

export function formatResumeRounds(rounds: ResumeRound[], sessions: number): string {
  const lines = [`resume time, disconnect -> first event of the resumed session, ${sessions} sessions dropped at once:`];
  for (const r of rounds) lines.push(`  ${r.name}: p50 ${r.resumeMs.p50 ?? '-'} ms, p95 ${r.resumeMs.p95 ?? '-'} ms, p99 ${r.resumeMs.p99 ?? '-'} ms, max ${r.resumeMs.max ?? '-'} ms (${r.resumed} resumed, ${r.failed} failed)`);
  return `${lines.join('\n')}\n`;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
