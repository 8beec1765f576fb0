/**
 * The vendors of each kind, by the name the `*_PROVIDER` settings take, with one line for
 * `--help`. Each name has its row in ./registry.ts (the compiler holds the two to the same names);
 * this list stands apart so that the settings schema can read it without the registry's types.
 */
const simulated = 'with the latencies of SIM_PROFILE, for benchmarks; never a default';

export const VENDOR_LIST = {
  vad: {
    silero: 'Silero (in process)',
    simulated: `loudness, ${simulated}`,
  },
  asr: {
    pocketsphinx: 'pocketsphinx (local)',
    riva: 'NVIDIA Riva or a speech NIM at RIVA_URI',
    openai: 'an OpenAI-compatible /v1/audio/transcriptions at ASR_BASE_URL (speaches, vLLM, LocalAI, OpenAI)',
    wyoming: 'a Wyoming speech-to-text server at WYOMING_ASR_URI (wyoming-faster-whisper)',
    simulated: `made-up words, ${simulated}`,
  },
  llm: {
    openai: 'any OpenAI-compatible server at LLM_BASE_URL (NIM, vLLM, Ollama, llama.cpp server)',
    'llama-cpp': 'a GGUF model run in-process (LLM_MODEL_PATH or the default model)',
    simulated: `a fixed reply, ${simulated}`,
  },
  tts: {
    espeak: 'espeak-ng (local)',
    riva: 'NVIDIA Riva or a speech NIM at RIVA_TTS_URI or RIVA_URI',
    openai: 'an OpenAI-compatible /v1/audio/speech at TTS_BASE_URL (Kokoro-FastAPI, speaches, OpenAI)',
    wyoming: 'a Wyoming text-to-speech server at WYOMING_TTS_URI (wyoming-piper)',
    simulated: `a tone, ${simulated}`,
  },
} as const;

export type VendorKind = keyof typeof VENDOR_LIST;
export type VendorName<K extends VendorKind> = keyof (typeof VENDOR_LIST)[K] & string;

/** The names of the vendors of `kind`, for the settings schema. */
export function vendorNames<K extends VendorKind>(kind: K): [VendorName<K>, ...Array<VendorName<K>>] {
  return Object.keys(VENDOR_LIST[kind]) as [VendorName<K>, ...Array<VendorName<K>>];
}

/** `name = what it is; ...`, for the `--help` of a `*_PROVIDER` setting. */
export function vendorSummaries(kind: VendorKind): string {
  return Object.entries(VENDOR_LIST[kind])
    .map(([name, summary]) => `${name} = ${String(summary)}`)
    .join('; ');
}
