/** Chooses and builds the providers the configuration names: one line per vendor. */
import type { Config } from '../config/schema.js';
import { createRivaProviders } from './create-riva.js';
import { createSimulatedProviders } from './create-simulated.js';
import { createSpeechServerProviders } from './create-speech-servers.js';
import { createChatModel } from './create-llm.js';
import type { Providers } from './types.js';

/**
 * Builds the providers the configuration names. A provider that cannot work stops the start.
 * Local engines are imported only when chosen, so remote-backend users never load them.
 */
export async function createProviders(config: Config): Promise<Providers> {
  // Riva and simulated providers where the settings name them; local engines fill the rest.
  const simulated = { ...createRivaProviders(config), ...createSpeechServerProviders(config), ...createSimulatedProviders(config) };
  // Settings checks that cost nothing come before the LLM, whose model may first be downloaded.
  const pocketsphinx = simulated.asr ? null : await import('./asr/pocketsphinx.js');
  pocketsphinx?.PocketsphinxRecognizer.checkLanguage(config.ASR_LANGUAGE);
  // Then the LLM: the local one may have to be downloaded, and without one the start stops at once.
  const llm = simulated.llm ?? (await createChatModel(config));
  const asr = pocketsphinx ? new pocketsphinx.PocketsphinxRecognizer({}) : null;
  const tts = simulated.tts ? null : await import('./tts/espeak.js').then(({ EspeakSynthesizer }) => new EspeakSynthesizer({}));
  // Loaded now, so that a broken install stops the start and the first turn pays no start-up.
  await Promise.all([asr?.warmUp(), tts?.warmUp()]);
  return {
    vad: simulated.vad ?? (await import('./vad/silero.js').then(({ SileroVad }) => SileroVad.load({ modelVersion: config.VAD_MODEL }))),
    asr: simulated.asr ?? asr!,
    llm,
    tts: simulated.tts ?? tts!,
  };
}

