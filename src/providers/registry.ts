/**
 * Every vendor the gateway can use, in one table: kind x name -> how to build it and how to check
 * it. `createProviders` builds the chosen row of each kind, `voice-gateway doctor` and the
 * warnings at start run its checks. The names (and their line of `--help`) are in
 * ./vendor-list.ts, which the `*_PROVIDER` settings read; the compiler wants a row here for each.
 *
 * Adding a vendor: a file (or folder) that implements the kind's interface (./types.ts: keep its
 * contract on abort and errors), its name and summary in ./vendor-list.ts, and its row here:
 * `create` (imports the vendor's module lazily, so users of other vendors never load it),
 * `validate` for settings checks that cost nothing, `check` for a backend over the network. Its
 * own settings go in config/schema.ts. Nothing else changes.
 */
import type { Config } from '../config/schema.js';
import type { BackendCheck } from './checks/check-result.js';
import { skip } from './checks/check-result.js';
import type { ChatModel, ProviderKind, SpeechRecognizer, SpeechSynthesizer, VoiceActivityDetector } from './types.js';
import type { VendorName } from './vendor-list.js';

export type { VendorName } from './vendor-list.js';

export interface ProviderOfKind {
  vad: VoiceActivityDetector;
  asr: SpeechRecognizer;
  llm: ChatModel;
  tts: SpeechSynthesizer;
}

/** Things several rows share while one set of providers is built (e.g. one Riva channel per address). */
export class BuildContext {
  private readonly made = new Map<string, unknown>();

  once<T>(key: string, make: () => T): T {
    if (!this.made.has(key)) this.made.set(key, make());
    return this.made.get(key) as T;
  }
}

export type BackendChecker = (config: Config, deep: boolean) => Promise<BackendCheck[]>;

export interface VendorRow<K extends ProviderKind> {
  /** Settings checks that cost nothing (a ConfigError names the setting); run for every chosen row before any is built. */
  validate?(config: Config, shared: BuildContext): Promise<void>;
  /** Builds the provider, loaded and ready (a local model is loaded now, not at the first turn); a failure stops the start. */
  create(config: Config, shared: BuildContext): Promise<ProviderOfKind[K]>;
  /**
   * Checks of its backend for `doctor` (deep) and the warnings at start (cheap). Rows that share
   * a backend share the function, and it runs once. Left out: the provider runs in this process.
   */
  check?: BackendChecker;
}

const checkRiva: BackendChecker = async (config, deep) => (await import('./riva/checks.js')).checkRiva(config, deep);
const checkOpenAi: BackendChecker = async (config, deep) => (await import('./llm/openai-compatible-checks.js')).checkOpenAiCompatible(config, deep);
/** OpenAI-compatible and Wyoming speech servers, ASR and TTS in one check (with the round trip between them). */
const checkSpeechServers: BackendChecker = async (config, deep) => (await import('./speech-server-checks.js')).checkSpeechServers(config, deep);
const speechServers = () => import('./create-speech-servers.js');
const rivaChannels = async (config: Config, shared: BuildContext) => {
  const { rivaChannels } = await import('./riva/create.js');
  return shared.once('riva channels', () => rivaChannels(config));
};
const simulatedProfile = async (config: Config, shared: BuildContext) => {
  const { loadSimulatedProfile } = await import('./simulated/profile.js');
  return shared.once('simulated profile', () => loadSimulatedProfile(config.SIM_PROFILE));
};

export const VENDORS: { [K in ProviderKind]: Record<VendorName<K>, VendorRow<K>> } = {
  vad: {
    silero: {
      create: async (config) => (await import('./vad/silero.js')).SileroVad.load({ modelVersion: config.VAD_MODEL }),
    },
    simulated: {
      validate: async (config, shared) => void (await simulatedProfile(config, shared)),
      create: async (config, shared) => new (await import('./simulated/vad.js')).SimulatedVad((await simulatedProfile(config, shared)).vad),
    },
  },
  asr: {
    pocketsphinx: {
      validate: async (config) => (await import('./asr/pocketsphinx.js')).PocketsphinxRecognizer.checkLanguage(config.ASR_LANGUAGE),
      create: async () => {
        const recognizer = new (await import('./asr/pocketsphinx.js')).PocketsphinxRecognizer({});
        await recognizer.warmUp();
        return recognizer;
      },
    },
    riva: {
      validate: async (config, shared) => void (await rivaChannels(config, shared)),
      create: async (config, shared) => (await import('./riva/create.js')).rivaRecognizer(config, await rivaChannels(config, shared)),
      check: checkRiva,
    },
    openai: {
      validate: async (config) => void (await speechServers()).openAiAsrSettings(config),
      create: async (config) => new (await import('./asr/openai.js')).OpenAiRecognizer((await speechServers()).openAiAsrSettings(config)),
      check: checkSpeechServers,
    },
    wyoming: {
      validate: async (config) => void (await speechServers()).wyomingAsrSettings(config),
      create: async (config) => new (await import('./asr/wyoming.js')).WyomingRecognizer((await speechServers()).wyomingAsrSettings(config)),
      check: checkSpeechServers,
    },
    simulated: {
      validate: async (config, shared) => void (await simulatedProfile(config, shared)),
      create: async (config, shared) => new (await import('./simulated/asr.js')).SimulatedRecognizer((await simulatedProfile(config, shared)).asr),
    },
  },
  llm: {
    openai: {
      create: async (config) => (await import('./llm/create.js')).remoteModel(config),
      check: checkOpenAi,
    },
    'llama-cpp': {
      create: async (config) => (await import('./llm/create.js')).localModel(config),
    },
    simulated: {
      validate: async (config, shared) => void (await simulatedProfile(config, shared)),
      create: async (config, shared) => new (await import('./simulated/llm.js')).SimulatedChatModel((await simulatedProfile(config, shared)).llm),
    },
  },
  tts: {
    espeak: {
      create: async () => {
        const synthesizer = new (await import('./tts/espeak.js')).EspeakSynthesizer({});
        await synthesizer.warmUp();
        return synthesizer;
      },
    },
    riva: {
      validate: async (config, shared) => void (await rivaChannels(config, shared)),
      create: async (config, shared) => (await import('./riva/create.js')).rivaSynthesizer(config, await rivaChannels(config, shared)),
      check: checkRiva,
    },
    openai: {
      validate: async (config) => void (await speechServers()).openAiTtsSettings(config),
      create: async (config) => new (await import('./tts/openai.js')).OpenAiSynthesizer((await speechServers()).openAiTtsSettings(config)),
      check: checkSpeechServers,
    },
    wyoming: {
      validate: async (config) => void (await speechServers()).wyomingTtsSettings(config),
      create: async (config) => new (await import('./tts/wyoming.js')).WyomingSynthesizer((await speechServers()).wyomingTtsSettings(config)),
      check: checkSpeechServers,
    },
    simulated: {
      validate: async (config, shared) => void (await simulatedProfile(config, shared)),
      create: async (config, shared) => new (await import('./simulated/tts.js')).SimulatedSynthesizer((await simulatedProfile(config, shared)).tts),
    },
  },
};

/**
 * The LLM the settings choose: `LLM_PROVIDER=auto` (the default) is the OpenAI-compatible server
 * when `LLM_BASE_URL` is set, else the local model, so a fresh machine works with no settings.
 */
export function chosenLlm(config: Pick<Config, 'LLM_PROVIDER' | 'LLM_BASE_URL'>): VendorName<'llm'> {
  if (config.LLM_PROVIDER !== 'auto') return config.LLM_PROVIDER;
  return config.LLM_BASE_URL ? 'openai' : 'llama-cpp';
}

/** The vendor of each kind the settings choose. */
export function chosenVendors(config: Config): { [K in ProviderKind]: VendorName<K> } {
  return { vad: config.VAD_PROVIDER, asr: config.ASR_PROVIDER, llm: chosenLlm(config), tts: config.TTS_PROVIDER };
}

export function vendorRow<K extends ProviderKind>(kind: K, name: VendorName<K>): VendorRow<K> {
  const rows: Record<VendorName<K>, VendorRow<K>> = VENDORS[kind];
  return rows[name];
}

/** The check of a row without one: nothing to reach. */
export function inProcess(kind: ProviderKind, name: string): BackendCheck {
  return skip(kind, 'backend', `${name} runs in this process: nothing to reach`);
}
