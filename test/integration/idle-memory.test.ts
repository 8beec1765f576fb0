/**
 * Resident memory per idle session, per transport, against a real gateway process (hardening
 * issue, finding 4): N sessions connect, start and stay silent; the gateway's RSS may grow by at
 * most RSS_PER_IDLE_SESSION_MAX_BYTES per session. A Realtime session once built two resampler
 * instances at connect (about 3 MiB), so 1,000 idle sockets took 7.6 GiB.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { openIdleSessions, residentBytes, TRANSPORTS } from '../support/idle-sessions.js';
import { scrape } from '../support/prometheus-text.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';

/** Sessions per transport: enough that per-session memory stands out of the heap's own noise. */
const SESSIONS = 200;
/**
 * The bound. Measured on this project's machine: 1 to 20 KiB per idle session depending on the
 * transport (BENCHMARKS.md has the benchmark), and over 1 MiB for a Realtime session before its
 * resamplers were made lazily; the bound leaves room for a garbage collector that has not run.
 */
const RSS_PER_IDLE_SESSION_MAX_BYTES = 256 * 1024;

let llm: ScriptedServer;
let gateway: GatewayProcess;

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'ok' });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl, MAX_SESSIONS: '0' });
});

after(async () => {
  await gateway.stop();
  await llm.close();
});

async function activeSessions(): Promise<number> {
  return Number((await scrape(gateway.httpPort)).series.get('voice_gateway_sessions_active')?.metrics[0]?.value ?? NaN);
}

async function untilNoSessions(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await activeSessions()) > 0) {
    if (Date.now() > deadline) throw new Error('sessions did not close');
    await new Promise((r) => setTimeout(r, 100));
  }
}

void describe('idle sessions', { timeout: 300_000 }, () => {
  for (const transport of TRANSPORTS) {
    void it(`${SESSIONS} idle ${transport} sessions hold at most ${RSS_PER_IDLE_SESSION_MAX_BYTES / 1024} KiB of resident memory each`, async (t) => {
      const ports = { grpc: gateway.grpcPort, http: gateway.httpPort };
      const pid = gateway.child.pid!;
      // Warm up: the code paths of this transport are loaded before the baseline.
      for (const s of await openIdleSessions(transport, 20, ports)) s.close();
      await untilNoSessions();
      const before = await residentBytes(pid);
      const sessions = await openIdleSessions(transport, SESSIONS, ports);
      assert.equal(await activeSessions(), SESSIONS);
      const perSession = ((await residentBytes(pid)) - before) / SESSIONS;
      t.diagnostic(`${transport}: ${Math.round(perSession / 1024)} KiB of resident memory per idle session`);
      for (const s of sessions) s.close();
      await untilNoSessions();
      assert.ok(perSession <= RSS_PER_IDLE_SESSION_MAX_BYTES, `${transport}: ${Math.round(perSession / 1024)} KiB per idle session`);
    });
  }
});
