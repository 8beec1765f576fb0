/** `voice-gateway doctor` against healthy and broken backends: scripted Riva and OpenAI-compatible servers. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { runDoctor } from '../../src/cli/doctor.js';
import { loadConfig } from '../../src/config/load.js';
import type { BackendCheck } from '../../src/providers/checks/run-checks.js';
import { startGateway } from '../../src/server.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { startScriptedRiva, type ScriptedRiva } from '../support/scripted-riva-server.js';

let riva: ScriptedRiva;
let llm: ScriptedServer;

before(async () => {
  riva = await startScriptedRiva({ words: () => 'hello' });
  llm = await startScriptedOpenAiServer({ reply: 'OK', model: 'meta/llama-3.1-8b-instruct' });
});
after(async () => {
  await riva.close();
  await llm.close();
});

function settings(extra: Record<string, string> = {}): Record<string, string> {
  return { ASR_PROVIDER: 'riva', TTS_PROVIDER: 'riva', RIVA_URI: riva.address, LLM_PROVIDER: 'openai', LLM_BASE_URL: llm.baseUrl, RIVA_TIMEOUT_MS: '2000', ...extra };
}

async function doctor(env: Record<string, string>): Promise<{ code: number; text: string; rows: BackendCheck[] }> {
  let text = '';
  const code = await runDoctor(loadConfig(env), { write: (t) => (text += t) });
  let json = '';
  await runDoctor(loadConfig(env), { json: true, write: (t) => (json += t) });
  return { code, text, rows: (JSON.parse(json) as { checks: BackendCheck[] }).checks };
}

const row = (rows: BackendCheck[], check: RegExp) => {
  const found = rows.find((r) => check.test(r.check));
  assert.ok(found, `a ${check} row in ${JSON.stringify(rows)}`);
  return found;
};

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

void describe('voice-gateway doctor', () => {
  void it('healthy backends: every check passes and the table says so', async () => {
    const { code, text, rows } = await doctor(settings());
    assert.equal(code, 0, text);
    assert.deepEqual(
      rows.map((r) => [r.backend, r.check, r.status]),
      [
        ['riva', `health (${riva.address})`, 'ok'],
        ['riva', 'ASR models', 'ok'],
        ['riva', 'TTS voices', 'ok'],
        ['riva', 'TTS -> ASR round trip', 'ok'],
        ['llm', 'readiness', 'ok'],
        ['llm', 'models', 'ok'],
        ['llm', 'one-token completion', 'ok'],
      ],
    );
    assert.match(row(rows, /round trip/).detail, /heard "hello"/);
    assert.match(row(rows, /ASR models/).detail, /parakeet-1.1b-en-US-asr-streaming streams en-US/);
    assert.match(text, /^BACKEND\s+CHECK\s+RESULT\s+DETAIL/);
    assert.match(text, /all configured backends work/);
  });

  void it('nothing listening: each failure comes with its fix, and the exit code is 1', async () => {
    const port = await closedPort();
    const { code, text, rows } = await doctor(settings({ RIVA_URI: `127.0.0.1:${port}`, LLM_BASE_URL: `http://127.0.0.1:${port}/v1` }));
    assert.equal(code, 1);
    const health = row(rows, /health/);
    assert.equal(health.status, 'fail');
    assert.match(health.fix!, /check RIVA_URI/);
    assert.equal(row(rows, /ASR models/).status, 'skip');
    assert.equal(row(rows, /round trip/).status, 'skip');
    const ready = row(rows, /readiness/);
    assert.equal(ready.status, 'fail');
    assert.match(ready.detail, /ECONNREFUSED/);
    assert.match(ready.fix!, /check LLM_BASE_URL/);
    assert.match(text, /FAIL/);
    assert.match(text, /fix: check RIVA_URI/);
  });

  void it('reachable but wrong: no model for the language, unknown voice, NIM not ready, model not served', async () => {
    llm.setReady(false);
    riva.setHealth('NOT_SERVING');
    try {
      const { code, rows } = await doctor(settings({ ASR_LANGUAGE: 'de-DE', TTS_VOICE: 'German.Anna', LLM_MODEL: 'meta/llama-3.3-70b-instruct' }));
      assert.equal(code, 1);
      assert.match(row(rows, /health/).detail, /reports NOT_SERVING/);
      riva.setHealth('SERVING');
      llm.setReady(true);
      const second = await doctor(settings({ ASR_LANGUAGE: 'de-DE', TTS_VOICE: 'German.Anna', LLM_MODEL: 'meta/llama-3.3-70b-instruct' }));
      const models = row(second.rows, /ASR models/);
      assert.equal(models.status, 'fail');
      assert.match(models.detail, /no streaming model for ASR_LANGUAGE=de-DE; deployed: parakeet-1.1b-en-US-asr-streaming \(en-US, streaming\)/);
      const voices = row(second.rows, /TTS voices/);
      assert.match(voices.detail, /TTS_VOICE=German.Anna is not deployed; deployed: English-US.Female-1, English-US.Male-1/);
      assert.match(row(second.rows, /^models/).detail, /LLM_MODEL=meta\/llama-3.3-70b-instruct is not served; served: meta\/llama-3.1-8b-instruct/);
      assert.equal(row(second.rows, /round trip/).status, 'skip');
    } finally {
      riva.setHealth('SERVING');
      llm.setReady(true);
    }
    const notReady = await startScriptedOpenAiServer();
    notReady.setReady(false);
    try {
      const { rows } = await doctor(settings({ LLM_BASE_URL: notReady.baseUrl }));
      const ready = row(rows, /readiness/);
      assert.match(ready.detail, /HTTP 503/);
      assert.match(ready.fix!, /still loading/);
    } finally {
      await notReady.close();
    }
  });

  void it('a failing completion is reported with the server\'s answer', async () => {
    llm.setReply({ status: 429, headers: { 'retry-after': '7' }, body: '{"error":"rate limited"}' });
    try {
      const { code, rows } = await doctor(settings());
      assert.equal(code, 1);
      const completion = row(rows, /completion/);
      assert.match(completion.detail, /HTTP 429 \(rate limited\); retry after 7 s/);
      assert.match(completion.fix!, /rate limiting/);
    } finally {
      llm.setReply('OK');
    }
  });

  void it('at start, the gateway logs each backend problem as a warning with its fix, and starts anyway', async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const config = loadConfig({ ...settings({ RIVA_URI: `127.0.0.1:${port}` }), HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', VAD_PROVIDER: 'simulated', WEB_CLIENT_ENABLED: 'false' });
    const gateway = await startGateway({ config, logger });
    try {
      const deadline = Date.now() + 10_000;
      while (!lines.some((l) => l.includes('check RIVA_URI')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const warning = lines.find((l) => l.includes('check RIVA_URI'));
      assert.ok(warning, lines.join(''));
      assert.match(warning, /"backend":"riva"/);
      assert.ok(gateway.grpcPort > 0, 'the gateway started');
    } finally {
      await gateway.close();
    }
  });

  void it('runs as a command with the same settings as serve', async () => {
    const port = await closedPort();
    const run = promisify(execFile);
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'doctor', '--riva-uri', `127.0.0.1:${port}`], {
      env: { ...process.env, ...settings({ RIVA_URI: riva.address }) },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    assert.equal(result.code, 1, 'the flag overrides the environment: nothing listens there');
    assert.match(result.stdout, new RegExp(`health \\(127.0.0.1:${port}\\)\\s+FAIL`));
  });
});
