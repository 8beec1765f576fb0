/**
 * A gateway process serving TLS with a fresh test CA, its scripted VAD/ASR/TTS and a scripted
 * OpenAI-compatible LLM: the fixture of the Realtime tests (the SDK always uses wss:).
 */
import assert from 'node:assert/strict';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedServer, type ScriptedServerOptions } from './scripted-openai-server.js';
import { makeTestCa, type TestCa } from './test-ca.js';

export interface TlsGateway {
  ca: TestCa;
  llm: ScriptedServer;
  gateway: GatewayProcess;
  /** Stops everything, checking that the gateway exits cleanly. */
  stop: () => Promise<void>;
}

export async function startTlsGateway(llmOptions: ScriptedServerOptions, env: Record<string, string> = {}): Promise<TlsGateway> {
  const ca = makeTestCa();
  const llm = await startScriptedOpenAiServer(llmOptions);
  const gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    TLS_CERT_FILE: ca.files.serverCert,
    TLS_KEY_FILE: ca.files.serverKey,
    DRAIN_GRACE_MS: '0',
    WEB_CLIENT_ENABLED: 'false',
    ...env,
  });
  return {
    ca,
    llm,
    gateway,
    stop: async () => {
      assert.equal(await gateway.stop(), 0, 'the gateway exits cleanly');
      await llm.close();
      ca.remove();
    },
  };
}
