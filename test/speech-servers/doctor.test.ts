/** `voice-gateway doctor` and the checks at start, on healthy and broken speech servers (OpenAI-compatible and Wyoming). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { formatChecks, runDoctor } from '../../src/cli/doctor.js';
import { loadConfig } from '../../src/config/load.js';
import type { BackendCheck } from '../../src/providers/checks/run-checks.js';
import { startGateway } from '../../src/server.js';
import { closedPort } from '../support/closed-port.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { startScriptedSpeechServer, type ScriptedSpeechServer } from '../support/scripted-speech-server.js';
import { startScriptedWyoming, type ScriptedWyoming } from '../support/scripted-wyoming-server.js';

let llm: ScriptedServer;
let speech: ScriptedSpeechServer;
let wyoming: ScriptedWyoming;

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'OK', model: 'meta/llama-3.1-8b-instruct' });
  // As speaches: both directions, voices with languages, each speech model's rate in /v1/models.
  speech = await startScriptedSpeechServer({ words: () => 'Hello.', voices: 'speaches', models: [{ id: 'Systran/faster-distil-whisper-small.en' }, { id: 'speaches-ai/Kokoro-82M-v1.0-ONNX', sample_rate: 24000 }] });
  wyoming = await startScriptedWyoming({ words: () => 'hello' });
});
after(async () => {
  await Promise.all([llm.close(), speech.close(), wyoming.close()]);
});

const openai = (extra: Record<string, string> = {}) => ({
  ASR_PROVIDER: 'openai',
  ASR_BASE_URL: speech.baseUrl,
  ASR_MODEL: 'Systran/faster-distil-whisper-small.en',
  TTS_PROVIDER: 'openai',
  TTS_BASE_URL: speech.baseUrl,
  TTS_MODEL: 'speaches-ai/Kokoro-82M-v1.0-ONNX',
  TTS_VOICE: 'af_heart',
  LLM_PROVIDER: 'openai',
  LLM_BASE_URL: llm.baseUrl,
  ...extra,
});
const wyomingSettings = (extra: Record<string, string> = {}) => ({ ASR_PROVIDER: 'wyoming', WYOMING_ASR_URI: wyoming.uri, TTS_PROVIDER: 'wyoming', WYOMING_TTS_URI: wyoming.uri, LLM_PROVIDER: 'openai', LLM_BASE_URL: llm.baseUrl, ...extra });

/** One run, as JSON; the table is the same rows as `doctor` prints them. */
async function doctor(env: Record<string, string>): Promise<{ code: number; text: string; rows: BackendCheck[] }> {
  let json = '';
  const code = await runDoctor(loadConfig(env), { json: true, write: (t) => (json += t) });
  const rows = (JSON.parse(json) as { checks: BackendCheck[] }).checks;
  return { code, text: formatChecks(rows), rows };
}

const row = (rows: BackendCheck[], backend: string, check: RegExp) => {
  const found = rows.find((r) => r.backend === backend && check.test(r.check));
  assert.ok(found, `a ${backend} ${check} row in ${JSON.stringify(rows)}`);
  return found;
};
const speechRows = (rows: BackendCheck[]) => rows.filter((r) => r.backend !== 'llm').map((r) => [r.backend, r.check, r.status]);

void describe('voice-gateway doctor: OpenAI-compatible speech servers', () => {
  void it('healthy: reachable, the models served, the voice offered, the rate right, and "Hello." heard back', async () => {
    const { code, text, rows } = await doctor(openai());
    assert.equal(code, 0, text);
    assert.deepEqual(speechRows(rows), [
      ['openai-asr', `server (${speech.baseUrl})`, 'ok'],
      ['openai-asr', 'model', 'ok'],
      ['openai-tts', `server (${speech.baseUrl})`, 'ok'],
      ['openai-tts', 'model', 'ok'],
      ['openai-tts', 'voice', 'ok'],
      ['openai-tts', 'sample rate', 'ok'],
      ['speech', 'TTS -> ASR round trip', 'ok'],
    ]);
    assert.match(row(rows, 'speech', /round trip/).detail, /"Hello." -> \d+ ms of audio \(first after \d+ ms\) -> heard "Hello."/);
    assert.match(text, /all configured backends work/);
  });

  void it('nothing listening: each failure with its fix, the round trip not tried, exit code 1', async () => {
    const port = await closedPort();
    const { code, text, rows } = await doctor(openai({ ASR_BASE_URL: `http://127.0.0.1:${port}/v1`, TTS_BASE_URL: `http://127.0.0.1:${port}/v1` }));
    assert.equal(code, 1);
    const server = row(rows, 'openai-asr', /server/);
    assert.equal(server.status, 'fail');
    assert.match(server.detail, /ECONNREFUSED/);
    assert.match(server.fix!, /check ASR_BASE_URL/);
    assert.match(row(rows, 'openai-tts', /server/).fix!, /check TTS_BASE_URL/);
    assert.equal(row(rows, 'speech', /round trip/).status, 'skip');
    assert.match(text, /fix: check ASR_BASE_URL and that the server is running/);
  });

  void it('reachable but wrong: a model not installed, a voice not offered, PCM at another rate', async () => {
    speech.configure({ models: [{ id: 'Systran/faster-distil-whisper-small.en' }, { id: 'speaches-ai/piper-en_US-amy-low', sample_rate: 16000 }] });
    try {
      const { code, rows } = await doctor(openai({ ASR_MODEL: 'Systran/faster-whisper-large-v3', TTS_MODEL: 'speaches-ai/piper-en_US-amy-low', TTS_VOICE: 'am_nobody' }));
      assert.equal(code, 1);
      const model = row(rows, 'openai-asr', /model/);
      assert.equal(model.status, 'warn');
      assert.match(model.detail, /ASR_MODEL=Systran\/faster-whisper-large-v3 is not among the listed models: Systran\/faster-distil-whisper-small.en, speaches-ai\/piper-en_US-amy-low/);
      assert.match(model.fix!, /curl -X POST http:\/\/127.0.0.1:\d+\/v1\/models\/Systran\/faster-whisper-large-v3/);
      const voice = row(rows, 'openai-tts', /voice/);
      assert.equal(voice.status, 'fail');
      assert.match(voice.detail, /TTS_VOICE=am_nobody is not offered; offered: af_heart, ff_siwis/);
      const rate = row(rows, 'openai-tts', /sample rate/);
      assert.equal(rate.status, 'fail');
      assert.match(rate.fix!, /set TTS_OPENAI_SAMPLE_RATE=16000/);
    } finally {
      speech.configure({ models: [{ id: 'Systran/faster-distil-whisper-small.en' }, { id: 'speaches-ai/Kokoro-82M-v1.0-ONNX', sample_rate: 24000 }] });
    }
  });

  void it('a bad key, and a round trip in which nothing is heard, each say what to change', async () => {
    const refusing = await startScriptedSpeechServer({ words: () => '' });
    try {
      const { rows } = await doctor(openai({ ASR_BASE_URL: refusing.baseUrl, TTS_BASE_URL: refusing.baseUrl, ASR_MODEL: 'whisper-small', TTS_MODEL: 'kokoro', TTS_VOICE: 'af_bella' }));
      const trip = row(rows, 'speech', /round trip/);
      assert.equal(trip.status, 'fail');
      assert.match(trip.detail, /heard ""/);
      assert.match(trip.fix!, /heard nothing .* TTS_OPENAI_SAMPLE_RATE/);
    } finally {
      await refusing.close();
    }
    speech.failNext('/v1/audio/speech', { status: 401, body: '{"error":"invalid api key"}' });
    const { rows } = await doctor(openai());
    assert.match(row(rows, 'speech', /round trip/).detail, /HTTP 401; check TTS_API_KEY/);
  });
});

void describe('voice-gateway doctor: Wyoming servers', () => {
  void it('healthy: describe answered by info with a model for the language and the voice; "Hello." heard back', async () => {
    const { code, text, rows } = await doctor(wyomingSettings({ TTS_VOICE: 'en_US-lessac-medium' }));
    assert.equal(code, 0, text);
    assert.deepEqual(speechRows(rows), [
      ['wyoming-asr', `describe (${wyoming.uri})`, 'ok'],
      ['wyoming-asr', 'model', 'ok'],
      ['wyoming-tts', `describe (${wyoming.uri})`, 'ok'],
      ['wyoming-tts', 'voice', 'ok'],
      ['speech', 'TTS -> ASR round trip', 'ok'],
    ]);
    assert.match(row(rows, 'wyoming-asr', /model/).detail, /small-int8 for en-US/);
    assert.match(row(rows, 'speech', /round trip/).detail, /heard "hello"/);
  });

  void it('broken: nothing listening, a TTS-only server as ASR, no model for the language, a voice not offered', async () => {
    const port = await closedPort();
    const down = await doctor(wyomingSettings({ WYOMING_ASR_URI: `tcp://127.0.0.1:${port}` }));
    assert.equal(down.code, 1);
    const describeRow = row(down.rows, 'wyoming-asr', /describe/);
    assert.match(describeRow.detail, /ECONNREFUSED/);
    assert.match(describeRow.fix!, /check WYOMING_ASR_URI and that the server is running \(wyoming-faster-whisper listens on 10300\)/);
    assert.equal(row(down.rows, 'speech', /round trip/).status, 'skip');

    const piperOnly = await startScriptedWyoming({ offers: ['tts'] });
    try {
      const wrongServer = await doctor(wyomingSettings({ WYOMING_ASR_URI: piperOnly.uri }));
      assert.match(row(wrongServer.rows, 'wyoming-asr', /describe/).detail, /lists no speech-to-text \(asr\) program; it offers text-to-speech/);
    } finally {
      await piperOnly.close();
    }
    const wrong = await doctor(wyomingSettings({ ASR_LANGUAGE: 'fr-FR', TTS_VOICE: 'fr_FR-siwis-medium' }));
    assert.match(row(wrong.rows, 'wyoming-asr', /model/).detail, /no installed model for ASR_LANGUAGE=fr-FR; offered: small-int8/);
    assert.match(row(wrong.rows, 'wyoming-tts', /voice/).detail, /TTS_VOICE=fr_FR-siwis-medium is not offered; offered: en_US-lessac-medium/);
  });

  void it('at start, describe is checked: a Wyoming server that is down is a warning with its fix, and the gateway starts anyway', async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const config = loadConfig({ ...wyomingSettings({ WYOMING_TTS_URI: `tcp://127.0.0.1:${port}` }), HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', VAD_PROVIDER: 'simulated', WEB_CLIENT_ENABLED: 'false' });
    const gateway = await startGateway({ config, logger });
    try {
      for (let i = 0; i < 400 && !lines.some((l) => l.includes('check WYOMING_TTS_URI')); i++) await new Promise((r) => setTimeout(r, 25));
      const warning = lines.find((l) => l.includes('check WYOMING_TTS_URI'));
      assert.ok(warning, lines.join(''));
      assert.match(warning, /"backend":"wyoming-tts"/);
      assert.ok(gateway.grpcPort > 0, 'the gateway started');
    } finally {
      await gateway.close();
    }
  });
});
