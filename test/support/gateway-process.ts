/** Starts a gateway in its own process and stops it after the test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface GatewayProcess {
  grpcAddress: string;
  grpcPort: number;
  httpPort: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr (its logs). */
  output(): string;
  stop(): Promise<number | null>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs `entry` (a .ts file relative to the repo root, and its args; or `bin/voice-gateway.js serve`)
 * under tsx. It is ready when it prints `READY <grpcPort> <httpPort>`, or the line `serve` prints
 * (`voice-gateway listening grpc=<port> http=<port>`), or logs "voice gateway listening".
 */
export async function startGatewayProcess(entry: string[], env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...entry], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ports = await new Promise<[number, number]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in 30 s:\n${output}`)), 30_000);
    const look = () => {
      // A test entry prints READY; the real `serve` command prints a listening line and logs its
      // ports (at LOG_LEVEL info).
      const match =
        /READY (\d+) (\d+)/.exec(output) ??
        /voice-gateway listening grpc=(\d+) http=(\d+)/.exec(output) ??
        /"grpcPort":(\d+),"httpPort":(\d+).*"msg":"voice gateway listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve([Number(match[1]), Number(match[2])]);
      }
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${output}`)));
  });
  return {
    grpcAddress: `127.0.0.1:${ports[0]}`,
    grpcPort: ports[0],
    httpPort: ports[1],
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode; // already gone (killed by the test)
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
