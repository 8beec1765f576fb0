/** Builds the providers the configuration names, each from its row in ./registry.ts. */
import type { Config } from '../config/schema.js';
import { BuildContext, chosenVendors, vendorRow } from './registry.js';
import { resolveTurnModelFile } from './turn/model-file.js';
import { SmartTurnModel } from './turn/smart-turn.js';
import type { Providers, TurnEndModel } from './types.js';

/**
 * Builds the providers the configuration names. A provider that cannot work stops the start.
 * Order: every chosen row's settings checks (they cost nothing), then the LLM (a local one may
 * first be downloaded), then the recognizer and the synthesizer (loaded and warmed up at once,
 * so that a broken install stops the start and the first turn pays no start-up), then the VAD.
 */
export async function createProviders(config: Config): Promise<Providers> {
  const names = chosenVendors(config);
  const rows = { vad: vendorRow('vad', names.vad), asr: vendorRow('asr', names.asr), llm: vendorRow('llm', names.llm), tts: vendorRow('tts', names.tts) };
  const shared = new BuildContext();
  for (const row of [rows.asr, rows.tts, rows.vad, rows.llm]) await row.validate?.(config, shared);
  const llm = await rows.llm.create(config, shared);
  const [asr, tts] = await Promise.all([rows.asr.create(config, shared), rows.tts.create(config, shared)]);
  const vad = await rows.vad.create(config, shared);
  const turn = await createTurnModel(config);
  return { vad, asr, llm, tts, ...(turn ? { turn } : {}) };
}

/**
 * The Smart Turn model, one for the process, when sessions may use it: the server's end of turn
 * is smart_turn (then the default model is downloaded once if needed) or TURN_MODEL_PATH names one.
 */
export async function createTurnModel(config: Config): Promise<TurnEndModel | undefined> {
  if (config.TURN_END_SOURCE !== 'smart_turn' && !config.TURN_MODEL_PATH) return undefined;
  const modelPath = await resolveTurnModelFile({
    modelPath: config.TURN_MODEL_PATH,
    url: config.TURN_MODEL_URL,
    sha256: config.TURN_MODEL_SHA256,
    cacheDir: config.TURN_MODEL_CACHE_DIR,
    stallTimeoutMs: config.LLM_DOWNLOAD_STALL_MS,
  });
  return SmartTurnModel.load({ modelPath });
}
