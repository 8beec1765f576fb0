/** Connections to Riva: TLS with a private CA, client certificates, NVIDIA-hosted metadata. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { rivaChannels, rivaRecognizer, rivaSynthesizer } from '../../src/providers/riva/create.js';
import { rivaHealth } from '../../src/providers/riva/discovery.js';
import { rivaError } from '../../src/providers/riva/errors.js';
import type { AsrResult, SpeechSynthesizer, TtsChunk } from '../../src/providers/types.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedRiva, type ScriptedRiva } from '../support/scripted-riva-server.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';

/** Riva ASR and TTS on shared channels, as their rows in providers/registry.ts build them. */
function rivaProviders(config: Config) {
  const channels = rivaChannels(config);
  return { asr: rivaRecognizer(config, channels), tts: rivaSynthesizer(config, channels) };
}

let ca: TestCa;
before(() => {
  ca = makeTestCa();
});
after(() => ca.remove());

async function speak(tts: SpeechSynthesizer): Promise<TtsChunk[]> {
  const chunks: TtsChunk[] = [];
  for await (const chunk of tts.stream('Hi there.', { voice: '', language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal)) chunks.push(chunk);
  return chunks;
}

void describe('TLS', () => {
  let riva: ScriptedRiva;
  before(async () => {
    riva = await startScriptedRiva({ tls: { cert: ca.read('serverCert'), key: ca.read('serverKey') } });
  });
  after(() => riva.close());

  void it('works with the CA of RIVA_CA_FILE', async () => {
    const config = loadConfig({ RIVA_URI: riva.address, RIVA_USE_TLS: 'true', RIVA_CA_FILE: ca.files.ca, TTS_PROVIDER: 'riva' });
    assert.equal(await rivaHealth(rivaChannels(config).asr, 'asr', 5000), 'SERVING');
    const chunks = await speak(rivaProviders(config).tts);
    assert.ok(chunks.length > 0);
  });

  void it('fails with a hint when the server certificate is not trusted', async () => {
    const config = loadConfig({ RIVA_URI: riva.address, RIVA_USE_TLS: 'true', RIVA_TIMEOUT_MS: '3000' });
    const channel = rivaChannels(config).asr;
    const error = await rivaHealth(channel, 'asr', 3000).then(() => null, (e: unknown) => e);
    assert.ok(error, 'an untrusted certificate is refused');
    assert.match(rivaError('asr', 'health check', channel, error, 'RIVA_TIMEOUT_MS').message, /UNAVAILABLE.*check that RIVA_USE_TLS, RIVA_CA_FILE and the client certificate match the server/);
  });

  void it('a plaintext client does not get through', async () => {
    const channel = rivaChannels(loadConfig({ RIVA_URI: riva.address })).asr;
    await assert.rejects(rivaHealth(channel, 'asr', 3000));
  });
});

void describe('mutual TLS', () => {
  let riva: ScriptedRiva;
  before(async () => {
    riva = await startScriptedRiva({ tls: { cert: ca.read('serverCert'), key: ca.read('serverKey'), ca: ca.read('ca'), requireClientCert: true } });
  });
  after(() => riva.close());

  void it('works with RIVA_CLIENT_CERT_FILE and RIVA_CLIENT_KEY_FILE, and not without', async () => {
    const withCert = loadConfig({ RIVA_URI: riva.address, RIVA_CA_FILE: ca.files.ca, RIVA_CLIENT_CERT_FILE: ca.files.clientCert, RIVA_CLIENT_KEY_FILE: ca.files.clientKey });
    assert.equal(await rivaHealth(rivaChannels(withCert).asr, 'asr', 5000), 'SERVING', 'the CA and certificate files imply TLS');
    const without = loadConfig({ RIVA_URI: riva.address, RIVA_CA_FILE: ca.files.ca });
    await assert.rejects(rivaHealth(rivaChannels(without).asr, 'asr', 3000));
  });

  void it('bad certificate settings stop the start with the setting named', () => {
    assert.throws(() => rivaChannels(loadConfig({ RIVA_CLIENT_CERT_FILE: ca.files.clientCert })), (e: unknown) => e instanceof ConfigError && /RIVA_CLIENT_CERT_FILE and RIVA_CLIENT_KEY_FILE go together/.test(e.message));
    assert.throws(() => rivaChannels(loadConfig({ RIVA_CA_FILE: '/nonexistent/ca.pem' })), /RIVA_CA_FILE="\/nonexistent\/ca.pem" cannot be read \(ENOENT\)/);
  });
});

void describe('NVIDIA-hosted endpoints', () => {
  void it('every call carries its function-id and the Bearer key', async () => {
    const riva = await startScriptedRiva();
    try {
      const config = loadConfig({
        RIVA_URI: riva.address,
        RIVA_API_KEY: 'nvapi-test-key',
        RIVA_FUNCTION_ID_ASR: '1598d209-5e27-4d3c-8079-4751568b1081',
        RIVA_FUNCTION_ID_TTS: '877104f7-e885-42b9-8de8-f6e4c6303969',
        ASR_PROVIDER: 'riva',
        TTS_PROVIDER: 'riva',
      });
      const { asr, tts } = rivaProviders(config);
      await speak(tts);
      await tts.listVoices();
      const stream = asr.stream({ language: 'en-US', sampleRateHz: 16000 }, new AbortController().signal);
      const results: AsrResult[] = [];
      const done = (async () => {
        for await (const r of stream) results.push(r);
      })();
      stream.write(concat(tone(500), silence(600)));
      stream.end();
      await done;
      const asrCall = riva.asrCalls[0]!.metadata;
      assert.equal(asrCall['function-id'], '1598d209-5e27-4d3c-8079-4751568b1081');
      assert.equal(asrCall.authorization, 'Bearer nvapi-test-key');
      const ttsCall = riva.ttsCalls[0]!.metadata;
      assert.equal(ttsCall['function-id'], '877104f7-e885-42b9-8de8-f6e4c6303969');
      assert.equal(ttsCall.authorization, 'Bearer nvapi-test-key');
      assert.equal(riva.unaryCalls[0]!.metadata['function-id'], '877104f7-e885-42b9-8de8-f6e4c6303969', 'the voice list goes to the TTS function');
    } finally {
      await riva.close();
    }
  });
});
