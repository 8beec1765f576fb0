/**
 * The language model the configuration names: a remote OpenAI-compatible server, or a GGUF model
 * run in-process by node-llama-cpp. `LLM_PROVIDER=auto` (the default) picks the server when
 * `LLM_BASE_URL` is set, else the local model, so a fresh machine works with no settings.
 */
import { ConfigError } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { chosenLlm } from '../registry.js';
import { OpenAiCompatibleChatModel } from './openai-compatible.js';
import type { ChatModel } from '../types.js';

export { chosenLlm };

/** The remote or local model (the simulated one is made by its row in ../registry.ts). */
export async function createChatModel(config: Config): Promise<ChatModel> {
  const choice = chosenLlm(config);
  switch (choice) {
    case 'openai':
      return remoteModel(config);
    case 'llama-cpp':
      return localModel(config);
    case 'simulated':
      throw new Error('createChatModel does not make the simulated LLM: its row in providers/registry.ts does');
  }
}

export function remoteModel(config: Config): ChatModel {
  if (!config.LLM_BASE_URL) {
    throw new ConfigError('LLM_PROVIDER=openai needs LLM_BASE_URL, the OpenAI-compatible API, e.g. LLM_BASE_URL=http://127.0.0.1:8000/v1');
  }
  return new OpenAiCompatibleChatModel({
    baseUrl: config.LLM_BASE_URL,
    apiKey: config.LLM_API_KEY || undefined,
    model: config.LLM_MODEL,
    temperature: config.LLM_TEMPERATURE,
    maxTokens: config.LLM_MAX_TOKENS,
    requestTimeoutMs: config.LLM_REQUEST_TIMEOUT_MS,
    streamIdleTimeoutMs: config.LLM_STREAM_IDLE_TIMEOUT_MS,
  });
}

export async function localModel(config: Config): Promise<ChatModel> {
  // Imported only here, so that users of a remote LLM never load node-llama-cpp.
  const { resolveModelFile } = await import('./model-cache.js');
  const { LlamaCppChatModel } = await import('./llama-cpp.js');
  const modelPath = await resolveModelFile({
    modelPath: config.LLM_MODEL_PATH,
    url: config.LLM_MODEL_URL,
    sha256: config.LLM_MODEL_SHA256,
    cacheDir: config.LLM_CACHE_DIR,
    stallTimeoutMs: config.LLM_DOWNLOAD_STALL_MS,
  });
  const llm = new LlamaCppChatModel({
    modelPath,
    threads: config.LLM_THREADS,
    contextSize: config.LLM_CONTEXT_SIZE,
    sequences: config.LLM_SEQUENCES,
    sequenceWaitMs: config.LLM_REQUEST_TIMEOUT_MS,
    temperature: config.LLM_TEMPERATURE,
    maxTokens: config.LLM_MAX_TOKENS,
  });
  // Loaded now: a model that cannot load stops the start, and the first turn does not wait.
  await llm.warmUp();
  return llm;
}
