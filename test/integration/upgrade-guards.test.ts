/**
 * The guards of the HTTP port's WebSocket endpoints, against a real gateway process (hardening
 * issue, findings 4, 6, 7 and 10): malformed upgrades hold no session, a connection that never
 * starts is closed, pages of other sites are refused while clients without an Origin and the
 * gateway's own page are served, the 404 page lists nothing, and the process caps its sessions
 * by default.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { defaultMaxSessions, hostResources } from '../../src/auth/session-cap.js';
import { waitUntil } from '../support/wait-until.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { connectRawRealtime, refusedUpgrade } from '../support/raw-realtime.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { connectVoiceWs } from '../support/voice-ws-client.js';

const MAX_SESSIONS = 5;
let llm: ScriptedServer;
let gateway: GatewayProcess;
const base = () => `127.0.0.1:${gateway.httpPort}`;

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'Fine.', tokenDelayMs: 2 });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    MAX_SESSIONS: String(MAX_SESSIONS),
    START_TIMEOUT_MS: '500',
    SESSION_IDLE_TIMEOUT_MS: '60000',
    ALLOWED_ORIGINS: 'https://app.example.com',
  });
});

after(async () => {
  await gateway.stop();
  await llm.close();
});

/** Sends a raw HTTP request and resolves with the first line and the rest of the answer. */
function rawRequest(text: string): Promise<{ statusLine: string; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(gateway.httpPort, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve({ statusLine: answer.split('\r\n')[0] ?? '', answer }));
    socket.on('error', reject);
  });
}

const badUpgrade = (path: string, headers: string) =>
  rawRequest(`GET ${path} HTTP/1.1\r\nHost: ${base()}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${headers}\r\n`);

/** A voice.v1 WebSocket session that starts and is ready: the gateway admits sessions. */
async function voiceSession(options: { headers?: Record<string, string> } = {}) {
  const c = await connectVoiceWs(`ws://${base()}/v1/voice`, { protocols: ['voice.v1'], ...options });
  c.send({ case: 'start', value: {} });
  await c.next('ready');
  return c;
}

void describe('malformed upgrades hold no session (finding 6)', { timeout: 120_000 }, () => {
  void it(`${MAX_SESSIONS * 2} bad upgrades on each endpoint get 400 and leave every session slot free`, async () => {
    for (const path of ['/v1/voice', '/v1/realtime']) {
      for (let i = 0; i < MAX_SESSIONS; i++) {
        const version = await badUpgrade(path, 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n');
        assert.match(version.statusLine, /^HTTP\/1.1 400/, version.answer);
        const key = await badUpgrade(path, 'Sec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 13\r\n');
        assert.match(key.statusLine, /^HTTP\/1.1 400/, key.answer);
      }
    }
    // All MAX_SESSIONS slots are free: a session on each endpoint, then the rest.
    const open = [await voiceSession()];
    const rt = await connectRawRealtime(`ws://${base()}/v1/realtime`);
    await rt.next('session.created');
    for (let i = 2; i < MAX_SESSIONS; i++) open.push(await voiceSession());
    // And the cap still holds: one more is refused with a retry hint.
    const over = await refusedUpgrade(`ws://${base()}/v1/realtime`);
    assert.equal(over.status, 429, over.body);
    for (const c of open) await c.close();
    await rt.close();
  });
});

void describe('a connection that never starts (finding 7)', { timeout: 60_000 }, () => {
  void it('is closed after START_TIMEOUT_MS with a reason, even while it sends garbage', async () => {
    const c = await connectVoiceWs(`ws://${base()}/v1/voice`, { protocols: ['voice.v1'] });
    const garbage = setInterval(() => c.ws.send(Buffer.from([0xff, 0xff, 0xff])), 50);
    try {
      const closed = await c.closed;
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, /no "start" message came within 0.5 s/);
    } finally {
      clearInterval(garbage);
    }
  });
});

void describe('Origin (finding 10)', { timeout: 60_000 }, () => {
  void it('a page of another site is refused on both endpoints with 403', async () => {
    for (const path of ['/v1/voice', '/v1/realtime']) {
      const refused = await refusedUpgrade(`ws://${base()}${path}`, { Origin: 'https://evil.example' });
      assert.equal(refused.status, 403, path);
      assert.match(refused.body, /ALLOWED_ORIGINS/);
    }
  });

  void it("clients without an Origin, the gateway's own page and allowed origins are served", async () => {
    const asked: Array<Record<string, string>> = [{}, { Origin: `http://${base()}` }, { Origin: 'https://app.example.com' }];
    for (const headers of asked) {
      const c = await voiceSession({ headers });
      await c.close();
      const rt = await connectRawRealtime(`ws://${base()}/v1/realtime`, { headers });
      await rt.next('session.created');
      await rt.close();
    }
  });

  void it('a page whose origin is "null" (a sandboxed page, a file) is refused', async () => {
    const refused = await refusedUpgrade(`ws://${base()}/v1/voice`, { Origin: 'null' });
    assert.equal(refused.status, 403);
  });
});

void describe('the 404 answers (finding 10)', { timeout: 60_000 }, () => {
  void it('do not list the routes', async () => {
    const page = await fetch(`http://${base()}/nothing-here`);
    assert.equal(page.status, 404);
    const body = await page.text();
    assert.doesNotMatch(body, /metrics|healthz|v1\/voice/);
    const upgrade = await badUpgrade('/nothing-here', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n');
    assert.match(upgrade.statusLine, /^HTTP\/1.1 404/);
    assert.doesNotMatch(upgrade.answer, /v1\/realtime|v1\/voice/);
  });
});

void describe('the default session cap (finding 4)', { timeout: 60_000 }, () => {
  void it('without MAX_SESSIONS the gateway caps its sessions from its memory and cores, and says so', async () => {
    const capped = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl, LOG_LEVEL: 'info' });
    try {
      const expected = defaultMaxSessions(hostResources());
      assert.ok(expected > 0);
      // The log line may reach the pipe after READY: wait for it, then check its value.
      await waitUntil(() => capped.output().includes('"maxSessions":'), 'the session cap logged', 30_000);
      assert.match(capped.output(), new RegExp(`"maxSessions":${expected}[,}]`));
    } finally {
      await capped.stop();
    }
  });
});


