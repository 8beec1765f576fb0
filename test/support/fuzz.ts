/**
 * What the fuzzing tests share (test/fuzz/): the time budget, a gateway process to attack, and the
 * invariants checked after every case and at the end of a run.
 *
 * Budget: FUZZ_TIME_S seconds of cases per transport (default 15, so the four transports add about
 * a minute to the test command); a nightly job sets it higher, e.g. FUZZ_TIME_S=600. FUZZ_SEED
 * replays a run fast-check reported (with FUZZ_PATH for its shrunk case). A slow machine runs
 * fewer cases in the same time; it never fails for it.
 *
 * Invariants: the process lives (and answers health checks); every session gets an answer or a
 * clear close (checked by each test's case); no error escapes a session or the process
 * (voice_gateway_internal_errors_total stays 0); once the cases' sessions close, none is left
 * (voice_gateway_sessions_active returns to 0) and the resident memory returns to within
 * FUZZ_RSS_GROWTH_MAX_BYTES of what it was after the warm-up.
 */
import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { healthStatus } from './grpc-call.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { residentBytes } from './idle-sessions.js';
import { scrape } from './prometheus-text.js';
import { startScriptedOpenAiServer, type ScriptedServer } from './scripted-openai-server.js';
import { within } from './within.js';

export { within };

const DEFAULT_FUZZ_TIME_S = 15;
/** How much more resident memory the gateway may hold after a run than after its warm-up. */
export const FUZZ_RSS_GROWTH_MAX_BYTES = 128 * 1024 * 1024;
/** The gateway under attack: small bounds, so that the cases reach them. */
export const FUZZ_LIMITS = { MAX_MESSAGE_BYTES: 262144, REALTIME_MAX_FRAME_BYTES: 524288, OUTBOUND_QUEUE_MAX_BYTES: 1048576, MAX_TEXT_CHARS: 2000 };

export interface FuzzBudget {
  timeLimitMs: number;
  seed?: number;
  path?: string;
}

export function fuzzBudget(): FuzzBudget {
  const seconds = Number(process.env.FUZZ_TIME_S ?? DEFAULT_FUZZ_TIME_S);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`FUZZ_TIME_S=${process.env.FUZZ_TIME_S} is not a number of seconds`);
  return {
    timeLimitMs: seconds * 1000,
    ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
    ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
  };
}

/**
 * Runs `property` for the budget's time (as many cases as fit) and returns how many ran. A failing
 * case fails the test with fast-check's report: the seed, the path and the shrunk case.
 */
export async function fuzzFor<T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>): Promise<{ cases: number; seconds: number }> {
  const budget = fuzzBudget();
  let cases = 0;
  let last: Promise<void> = Promise.resolve();
  const startedAt = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, (value) => {
        cases++;
        last = check(value);
        return last;
      }),
      {
        numRuns: Number.MAX_SAFE_INTEGER,
        interruptAfterTimeLimit: budget.timeLimitMs,
        markInterruptAsFailure: false,
        endOnFailure: true,
        ...(budget.seed === undefined ? {} : { seed: budget.seed }),
        ...(budget.path === undefined ? {} : { path: budget.path }),
      },
    );
  } catch (error) {
    // fast-check calls a run interrupted before its first case ended a failure, and leaves that
    // case running. A first case that outlasts the budget is a slow machine (or a slow case): it
    // is judged when it ends (each case bounds its own waits), as any other case is.
    if (!(cases === 1 && /Property interrupted after 0 tests/.test(String(error)))) throw error;
    await last;
  }
  return { cases, seconds: (performance.now() - startedAt) / 1000 };
}

export interface FuzzTarget {
  gateway: GatewayProcess;
  llm: ScriptedServer;
  /** RSS after the warm-up (set by `markBaseline`). */
  baselineRssBytes: number;
  markBaseline(): Promise<void>;
  /** The end-of-run invariants; returns the figures for the report. */
  checkAfterRun(name: string, run: { cases: number; seconds: number }): Promise<string>;
  stop(): Promise<void>;
}

/** A gateway process (scripted providers, scripted LLM) with small bounds, to attack. */
export async function startFuzzTarget(env: Record<string, string> = {}): Promise<FuzzTarget> {
  const llm = await startScriptedOpenAiServer({ reply: 'Fine, thanks. And you?', tokenDelayMs: 1 });
  const gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    MAX_SESSIONS: '0',
    SCRIPTED_TTS_MS_PER_CHAR: '20',
    // A case's client leaves at its end; its session then waits this long for a resume (the least
    // allowed), and the end-of-run check waits for every session to be gone.
    RESUME_WINDOW_MS: '1000',
    ...Object.fromEntries(Object.entries(FUZZ_LIMITS).map(([k, v]) => [k, String(v)])),
    ...env,
  });
  const target: FuzzTarget = {
    gateway,
    llm,
    baselineRssBytes: 0,
    async markBaseline() {
      target.baselineRssBytes = await residentBytes(gateway.child.pid!);
    },
    async checkAfterRun(name, run) {
      assert.equal(gateway.child.exitCode, null, `the gateway process exited:\n${gateway.output().slice(-3000)}`);
      assert.equal(await healthStatus(gateway.grpcAddress, ''), 'SERVING');
      await untilNoSessions(gateway);
      const metrics = (await scrape(gateway.httpPort)).series;
      const internal = metrics.get('voice_gateway_internal_errors_total')?.metrics ?? [];
      for (const sample of internal) assert.equal(Number(sample.value), 0, `internal errors (${sample.labels?.scope}):\n${internalErrorLines(gateway)}`);
      const rss = await residentBytes(gateway.child.pid!);
      const growth = rss - target.baselineRssBytes;
      assert.ok(growth <= FUZZ_RSS_GROWTH_MAX_BYTES, `RSS grew by ${Math.round(growth / 2 ** 20)} MiB over the run (at most ${FUZZ_RSS_GROWTH_MAX_BYTES / 2 ** 20})`);
      const line = `${name}: ${run.cases} cases in ${run.seconds.toFixed(1)} s, crashes: 0, internal errors: 0, RSS after the sessions closed: ${(rss / 2 ** 20).toFixed(0)} MiB (${growth >= 0 ? '+' : ''}${(growth / 2 ** 20).toFixed(1)} MiB)`;
      // A nightly job collects the figures (BENCHMARKS.md: "Fuzzing").
      if (process.env.FUZZ_REPORT) await appendFile(process.env.FUZZ_REPORT, `${JSON.stringify({ transport: name, ...run, rssBytes: rss, rssGrowthBytes: growth })}\n`);
      return line;
    },
    async stop() {
      await gateway.stop();
      await llm.close();
    },
  };
  return target;
}

async function untilNoSessions(gateway: GatewayProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const active = Number((await scrape(gateway.httpPort)).series.get('voice_gateway_sessions_active')?.metrics[0]?.value ?? NaN);
    if (active === 0) return;
    if (Date.now() > deadline) throw new Error(`${active} sessions are still open a minute after their clients left`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function internalErrorLines(gateway: GatewayProcess): string {
  return gateway
    .output()
    .split('\n')
    .filter((l) => l.includes('internal error'))
    .slice(0, 5)
    .join('\n');
}

/** Close codes that say why (normal, going away, policy, too big, internal, try later). */
const CLEAR_CLOSE_CODES = new Set([1000, 1001, 1008, 1009, 1011, 1013]);
const CASE_WAIT_MS = 30_000;

export interface WebSocketCase {
  url: string;
  protocols?: string[];
  /** Frames of the case, then the probe's. */
  frames: Array<string | Uint8Array>;
  /** When to send them: at open, or at the first message this accepts (the session's ready event). */
  sendAt: 'open' | ((message: Buffer) => boolean);
  /** The answer to the probe. */
  isProbeAnswer: (message: Buffer) => boolean;
}

/**
 * One fuzzing case over a WebSocket: its frames and the probe, then a wait (bounded) for the
 * probe's answer or a close. Passes when the session answered, or closed with a clear code and a
 * reason; then the client closes and the socket must close.
 */
export async function webSocketCase({ url, protocols = [], frames, sendAt, isProbeAnswer }: WebSocketCase): Promise<void> {
  const ws = new WebSocket(url, protocols);
  ws.on('error', () => undefined);
  let closed: { code: number; reason: string } | null = null;
  const closing = new Promise<void>((resolve) =>
    ws.once('close', (code: number, reason: Buffer) => {
      closed = { code, reason: reason.toString() };
      resolve();
    }),
  );
  const send = () => {
    for (const f of frames) ws.send(f, { binary: typeof f !== 'string' });
  };
  const answered = new Promise<boolean>((resolve) => {
    if (sendAt === 'open') ws.on('open', send);
    ws.on('message', (data: Buffer) => {
      if (sendAt !== 'open' && sendAt(data)) send();
      if (isProbeAnswer(data)) resolve(true);
    });
    void closing.then(() => resolve(false));
  });
  const gotAnswer = await within(answered, CASE_WAIT_MS, `a session at ${url} neither answered the probe nor closed`);
  if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  await within(closing, CASE_WAIT_MS, 'the socket did not close');
  const end = closed as { code: number; reason: string } | null;
  if (!gotAnswer) assert.ok(end && CLEAR_CLOSE_CODES.has(end.code) && end.reason.length > 0, `no answer and no clear close: ${JSON.stringify(end)}`);
}

/** Text for the fuzzers: short, unicode, long, or past the gateway's limits. */
export function fuzzText(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u0000', '\ud800', '💥'.repeat(100), 'en-US', 'turn_1', 'reply_1', 'resp_1') },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 300_000 }).map((n) => 'x'.repeat(n)) },
  );
}

/** PCM16 tone or noise bytes that the scripted VAD hears as speech or silence. */
export function fuzzAudioBytes(): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 6400 }),
    fc.integer({ min: 1, max: 4800 }).map((samples) => {
      const pcm = new Int16Array(samples);
      for (let i = 0; i < samples; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000));
      return new Uint8Array(pcm.buffer);
    }),
    fc.integer({ min: 1, max: 4800 }).map((samples) => new Uint8Array(samples * 2)),
  );
}
