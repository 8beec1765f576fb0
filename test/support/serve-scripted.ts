/**
 * A real `serve` process for integration tests: the gateway's own configuration loading and
 * composition, with the scripted VAD, ASR and TTS of ./scripted-providers.ts and the real
 * OpenAI-compatible LLM provider (pointed by LLM_BASE_URL at the scripted SSE server).
 * The ASR hears "utterance of N ms" for a tone of N ms, so each session's transcript says which
 * audio it heard. Prints `READY <grpcPort> <httpPort>` when listening.
 */
import { loadConfig } from '../../src/config/load.js';
import { OpenAiCompatibleChatModel } from '../../src/providers/llm/openai-compatible.js';
import { startGateway } from '../../src/server.js';
import { ScriptedAsr, ScriptedTts, ScriptedVad } from './scripted-providers.js';

const config = loadConfig(process.env);
const gateway = await startGateway({
  config,
  providers: {
    vad: new ScriptedVad(),
    asr: new ScriptedAsr((voicedMs) => `utterance of ${Math.round(voicedMs / 100) * 100} ms`),
    llm: new OpenAiCompatibleChatModel({
      baseUrl: config.LLM_BASE_URL,
      model: config.LLM_MODEL,
      temperature: config.LLM_TEMPERATURE,
      maxTokens: config.LLM_MAX_TOKENS,
      requestTimeoutMs: config.LLM_REQUEST_TIMEOUT_MS,
    }),
    tts: new ScriptedTts({ msPerChar: Number(process.env.SCRIPTED_TTS_MS_PER_CHAR ?? 50) }),
  },
});
process.stdout.write(`READY ${gateway.grpcPort} ${gateway.httpPort}\n`);
process.once('SIGTERM', () => void gateway.drain(config.DRAIN_GRACE_MS).then(() => process.exit(0)));
