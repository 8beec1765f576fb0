/**
 * A gateway the bench starts itself (`--spawn-server`): a `serve` child process on free loopback
 * ports with every provider simulated and the bench's profile, so that what is measured is the
 * gateway and the profile's known latencies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

export interface SpawnedGateway {
  grpcAddress: string;
  metricsUrl: string;
  pid: number;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** The CLI entry to run (`<entry> serve`), with the node flags this process runs under. */
  entry: string;
  /** SIM_PROFILE: a built-in name or a JSON file. */
  profile: string;
  /** Extra settings (e.g. TURN_END_SILENCE_MS); the environment's are kept. */
  env?: Record<string, string>;
  /** Where the gateway's logs go (default: nowhere). */
  logFile?: string;
  startTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function spawnGateway(options: SpawnOptions): Promise<SpawnedGateway> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const logFd = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  let stderr = '';
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, options.entry, 'serve'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      HTTP_PORT: String(httpPort),
      VAD_PROVIDER: 'simulated',
      ASR_PROVIDER: 'simulated',
      LLM_PROVIDER: 'simulated',
      TTS_PROVIDER: 'simulated',
      SIM_PROFILE: options.profile,
      // A capacity bench measures past any cap; MAX_SESSIONS in the environment still wins.
      MAX_SESSIONS: process.env.MAX_SESSIONS ?? '0',
      ...options.env,
    },
    stdio: ['ignore', logFd, 'pipe'],
  });
  if (typeof logFd === 'number') closeSync(logFd);
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const metricsUrl = `http://127.0.0.1:${httpPort}/metrics`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  // The HTTP port opens after the gRPC one: once /metrics answers, both are listening.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode} before it listened:\n${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the gateway did not listen within ${(options.startTimeoutMs ?? 30_000) / 1000} s:\n${stderr.trim()}`);
    }
    try {
      if ((await fetch(metricsUrl, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    grpcAddress: `127.0.0.1:${grpcPort}`,
    metricsUrl,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGINT'); // stop now (SIGTERM would drain for DRAIN_GRACE_MS)
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
