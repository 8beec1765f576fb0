/** Chooses and builds the providers the configuration names: one line per vendor. */
import type { Config } from '../config/schema.js';
import { OpenAiCompatibleChatModel } from './llm/openai-compatible.js';
import type { Providers } from './types.js';

/**
 * Builds the providers the configuration names. A provider that cannot work stops the start.
 * Local engines are imported only when chosen, so remote-backend users never load them.
 */
export async function createProviders(config: Config): Promise<Providers> {
  const { PocketsphinxRecognizer } = await import('./asr/pocketsphinx.js');
  const { EspeakSynthesizer } = await import('./tts/espeak.js');
  const { SileroVad } = await import('./vad/silero.js');
  PocketsphinxRecognizer.checkLanguage(config.ASR_LANGUAGE);
  const llm = new OpenAiCompatibleChatModel({
    baseUrl: config.LLM_BASE_URL,
    apiKey: config.LLM_API_KEY || undefined,
    model: config.LLM_MODEL,
    temperature: config.LLM_TEMPERATURE,
    maxTokens: config.LLM_MAX_TOKENS,
    requestTimeoutMs: config.LLM_REQUEST_TIMEOUT_MS,
  });
  return {
    vad: await SileroVad.load({ modelVersion: config.VAD_MODEL }),
    asr: new PocketsphinxRecognizer({}),
    llm,
    tts: new EspeakSynthesizer({}),
  };
}

