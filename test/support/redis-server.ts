/**
 * A real redis-server (Debian's) of the test's own, on a free loopback port, with no persistence:
 * never a system service. It can be stopped and started again on the same port (Redis down),
 * paused (SIGSTOP: Redis slow, answering nothing) and resumed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServerOptions {
  password?: string;
  /** Serve TLS only, with these PEM files. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

export interface RedisServer {
  port: number;
  /** redis:// or rediss:// URL (without the password). */
  url: string;
  /** Stops the server (its data is gone); `start` brings up an empty one on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP: the socket stays open and nothing answers. */
  pause(): void;
  /** SIGCONT. */
  unpause(): void;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: install Debian's redis-server (scripts/setup.sh --test does)`);
  const port = await freePort();
  let child: ChildProcess | null = null;
  const args = () => {
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning'];
    const auth = options.password ? ['--requirepass', options.password] : [];
    const tls = options.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile, '--tls-ca-cert-file', options.tls.caFile, '--tls-auth-clients', 'no']
      : ['--port', String(port)];
    return [...common, ...auth, ...tls];
  };
  const start = async () => {
    const started = spawn(REDIS_SERVER, args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    started.stdout.on('data', (b: Buffer) => (output += b.toString()));
    started.stderr.on('data', (b: Buffer) => (output += b.toString()));
    // With --loglevel warning nothing is printed on success: the server is up once it accepts.
    const deadline = Date.now() + 20_000;
    while (!(await accepts(port))) {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within 20 s: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    start,
    async stop() {
      const running = child;
      child = null;
      if (!running || running.exitCode !== null) return;
      running.kill('SIGCONT');
      running.kill('SIGKILL');
      await once(running, 'exit');
    },
    pause: () => child?.kill('SIGSTOP'),
    unpause: () => child?.kill('SIGCONT'),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
