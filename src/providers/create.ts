/** Builds the providers the configuration names, each from its row in ./registry.ts. */
import type { Config } from '../config/schema.js';
import { BuildContext, chosenVendors, vendorRow } from './registry.js';
import type { Providers } from './types.js';

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
  return { vad, asr, llm, tts };
}
