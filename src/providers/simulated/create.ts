/**
 * The simulated providers the configuration asks for (`*_PROVIDER=simulated`), with the latency
 * profile `SIM_PROFILE`. Capacity planning and benchmarks only: never a default.
 */
import type { Config } from '../../config/schema.js';
import { SimulatedRecognizer } from './asr.js';
import { SimulatedChatModel } from './llm.js';
import { loadSimulatedProfile } from './profile.js';
import { SimulatedSynthesizer } from './tts.js';
import type { Providers } from '../types.js';
import { SimulatedVad } from './vad.js';

/** Only the kinds set to 'simulated'; a bad SIM_PROFILE is a ConfigError. */
export function createSimulatedProviders(config: Config): Partial<Providers> {
  const chosen = {
    vad: config.VAD_PROVIDER === 'simulated',
    asr: config.ASR_PROVIDER === 'simulated',
    llm: config.LLM_PROVIDER === 'simulated',
    tts: config.TTS_PROVIDER === 'simulated',
  };
  if (!Object.values(chosen).some(Boolean)) return {};
  const profile = loadSimulatedProfile(config.SIM_PROFILE);
  return {
    ...(chosen.vad && { vad: new SimulatedVad(profile.vad) }),
    ...(chosen.asr && { asr: new SimulatedRecognizer(profile.asr) }),
    ...(chosen.llm && { llm: new SimulatedChatModel(profile.llm) }),
    ...(chosen.tts && { tts: new SimulatedSynthesizer(profile.tts) }),
  };
}
