/**
 * The container image, built with podman from the repo's Dockerfile (on a local Debian base made
 * with debootstrap, since no image registry is reachable), run as users run it: it answers
 * grpc.health.v1 SERVING and completes a turn through the `ask` client. Skipped, saying why, only
 * where podman or debootstrap is missing.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { ask } from '../../src/client/ask-client.js';
import { healthStatus } from '../support/grpc-call.js';
import { concat, silence, tone } from '../support/scripted-providers.js';

const run = promisify(execFile);
const IMAGE = 'localhost/voice-gateway:test';
const BASE = 'localhost/node-base:20-bookworm';
const PODMAN = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
const missing = ['podman', 'debootstrap'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const skip = missing.length ? `needs ${missing.join(' and ')} (apt-get install podman runc debootstrap)` : false;

let container = '';
let grpcPort = 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

before(async () => {
  if (skip) return;
  await run('scripts/make-base-image.sh', [BASE], { timeout: 600_000 });
  await run('podman', [...PODMAN, 'build', '--network', 'host', '-t', IMAGE, '--build-arg', `BASE_IMAGE=${BASE}`, '--build-arg', 'LOCAL_ENGINES=false', '.'], {
    timeout: 1_200_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  grpcPort = await freePort();
  const httpPort = await freePort();
  const env = {
    HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    HTTP_PORT: String(httpPort),
    VAD_PROVIDER: 'simulated',
    ASR_PROVIDER: 'simulated',
    LLM_PROVIDER: 'simulated',
    TTS_PROVIDER: 'simulated',
  };
  const { stdout } = await run('podman', [
    ...PODMAN, 'run', '-d', '--rm', '--network', 'host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    IMAGE,
  ]);
  container = stdout.trim();
});

after(async () => {
  if (container) await run('podman', [...PODMAN, 'stop', '-t', '5', container]).catch(() => undefined);
});

void it('the image runs as a non-root user, is SERVING on grpc.health.v1 and completes a turn', { skip }, async () => {
  const { stdout: user } = await run('podman', ['image', 'inspect', '--format', '{{.Config.User}}', IMAGE]);
  assert.equal(user.trim(), '10001:10001');
  let status = '';
  for (let i = 0; i < 120 && status !== 'SERVING'; i++) {
    status = await healthStatus(`127.0.0.1:${grpcPort}`, 'voice.v1.VoiceGateway');
    if (status !== 'SERVING') await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(status, 'SERVING');
  const result = await ask({ server: `127.0.0.1:${grpcPort}`, pcm: concat(silence(300), tone(900), silence(300)), sampleRateHz: 16000, settleMs: 1000 });
  assert.deepEqual(result.errors, []);
  assert.equal(result.turns[0]?.response_status, 'completed');
  assert.ok(result.turns[0].transcript.length > 0 && result.turns[0].response_text.length > 0);
  const { stdout: size } = await run('podman', ['image', 'inspect', '--format', '{{.Size}}', IMAGE]);
  console.log(`image ${IMAGE}: ${Math.round(Number(size) / 1e6)} MB (LOCAL_ENGINES=false, on a debootstrap base)`);
});
