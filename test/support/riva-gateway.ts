/**
 * The gateway as a Riva + NIM user runs it, in this process: the real configuration loading and
 * composition (ASR_PROVIDER=riva, TTS_PROVIDER=riva, an OpenAI-compatible LLM), pointed at the
 * scripted Riva and OpenAI-compatible servers. VAD is the simulated one (loudness), since the
 * tests speak in tones.
 */
import { loadConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/server.js';

export async function startRivaGateway(env: Record<string, string>): Promise<Gateway & { address: string }> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    WEB_CLIENT_ENABLED: 'false',
    VAD_PROVIDER: 'simulated',
    ASR_PROVIDER: 'riva',
    TTS_PROVIDER: 'riva',
    LLM_PROVIDER: 'openai',
    TURN_END_SOURCE: 'asr',
    ...env,
  });
  const gateway = await startGateway({ config });
  return Object.assign(gateway, { address: `127.0.0.1:${gateway.grpcPort}` });
}
