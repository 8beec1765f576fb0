/**
 * Latency profiles of the simulated providers (vad/, asr/, llm/, tts/ `simulated.ts`): how long each
 * simulated backend takes, so that capacity can be planned and the gateway's own overhead measured
 * without GPUs. A profile is a built-in name or a JSON file that overrides fields of a built-in:
 *
 *   { "extends": "nvidia-blueprint", "llm": { "tokensPerSecond": 60 } }
 *
 * The bench (src/bench/) reads the same profile to know the backends' own latencies.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../config/load.js';

const ms = z.number().min(0).max(60_000);

const VadProfile = z.strictObject({
  /** Frames louder than this (RMS, dBFS) are speech. */
  speechThresholdDbfs: z.number().min(-100).max(0),
  /** Frame length the detector asks for. */
  frameMs: z.number().int().min(10).max(64),
});

const AsrProfile = z.strictObject({
  /** Audio louder than this (RMS, dBFS) is speech. */
  speechThresholdDbfs: z.number().min(-100).max(0),
  /** A partial result for every this much speech. */
  partialEveryMs: z.number().int().min(20).max(10_000),
  /** One transcript word for every this much speech. */
  msPerWord: z.number().int().min(50).max(5000),
  /** Silence after speech at which a stable interim comes (Riva's two-pass end of utterance); 0: none. */
  stableInterimMs: ms,
  /** Silence after speech at which the recognizer itself ends the utterance. */
  endOfUtteranceMs: z.number().min(50).max(60_000),
  /** From the end of the utterance (its own, or the end of the audio stream) to the final result. */
  finalDelayMs: ms,
});

const LlmProfile = z.strictObject({
  /** From the request to the first token. */
  firstTokenMs: ms,
  /** Pace of the tokens after the first (a token is a word with its punctuation). */
  tokensPerSecond: z.number().min(0.1).max(100_000),
  /** fixed: a reply of `replyWords` words that starts with a short sentence; echo: repeats the transcript. */
  reply: z.enum(['fixed', 'echo']),
  replyWords: z.number().int().min(1).max(2000),
  /** Keeps streaming after its request is aborted, as a misbehaving server can (the gateway must abandon it). */
  ignoresAbort: z.boolean().optional(),
});

const TtsProfile = z.strictObject({
  /** From the request to the first audio chunk. */
  firstByteMs: ms,
  /** Synthesis time over audio time, after the first chunk (0.1: ten times faster than real time). */
  realTimeFactor: z.number().min(0).max(10),
  chunkMs: z.number().int().min(10).max(2000),
  /** Audio length per character of text (speaking rate). */
  msPerChar: z.number().min(1).max(1000),
  /** The audio: a tone or white noise, never silence (so listeners and VADs hear it). */
  sound: z.enum(['tone', 'noise']),
  /** Keeps synthesizing after its request is aborted (the gateway must abandon it). */
  ignoresAbort: z.boolean().optional(),
});

export const SimulatedProfileSchema = z.strictObject({
  name: z.string(),
  vad: VadProfile,
  asr: AsrProfile,
  llm: LlmProfile,
  tts: TtsProfile,
});

export type SimulatedProfile = z.infer<typeof SimulatedProfileSchema>;

const VAD_DEFAULTS: SimulatedProfile['vad'] = { speechThresholdDbfs: -40, frameMs: 20 };
const SPEECH_DBFS = VAD_DEFAULTS.speechThresholdDbfs;

/**
 * The built-in profiles. `nvidia-blueprint` holds the single-stream figures NVIDIA published for its
 * voice agent blueprint on H100s (shared/reference/riva-nim-api.md §5.3): ASR final 40 ms, LLM first
 * token 126 ms and first sentence 138 ms, TTS first byte 78 ms, end of utterance 500 ms, stable
 * interim 240 ms. 333 tokens/s puts the end of the built-in reply's first sentence ("Sure, happy to
 * help.", 4 tokens, cut when the 5th arrives) at 126 + 4 × 3 = 138 ms. The TTS real-time factor and
 * speaking rate are not published; 0.1 and 70 ms per character (about 150 words a minute) are assumed.
 * `zero-latency` answers at once: what remains of a turn's latency is the gateway's.
 */
export const BUILT_IN_PROFILES: Record<string, SimulatedProfile> = {
  'nvidia-blueprint': {
    name: 'nvidia-blueprint',
    vad: VAD_DEFAULTS,
    asr: { speechThresholdDbfs: SPEECH_DBFS, partialEveryMs: 200, msPerWord: 300, stableInterimMs: 240, endOfUtteranceMs: 500, finalDelayMs: 40 },
    llm: { firstTokenMs: 126, tokensPerSecond: 333, reply: 'fixed', replyWords: 12 },
    tts: { firstByteMs: 78, realTimeFactor: 0.1, chunkMs: 100, msPerChar: 70, sound: 'tone' },
  },
  'zero-latency': {
    name: 'zero-latency',
    vad: VAD_DEFAULTS,
    asr: { speechThresholdDbfs: SPEECH_DBFS, partialEveryMs: 200, msPerWord: 300, stableInterimMs: 0, endOfUtteranceMs: 500, finalDelayMs: 0 },
    llm: { firstTokenMs: 0, tokensPerSecond: 100_000, reply: 'fixed', replyWords: 12 },
    tts: { firstByteMs: 0, realTimeFactor: 0, chunkMs: 100, msPerChar: 70, sound: 'tone' },
  },
};

export const DEFAULT_PROFILE = 'nvidia-blueprint';

/** A JSON file's content: any field of a profile, over the built-in it `extends`. */
const ProfileFile = z.strictObject({
  extends: z.string().optional(),
  name: z.string().optional(),
  vad: VadProfile.partial().optional(),
  asr: AsrProfile.partial().optional(),
  llm: LlmProfile.partial().optional(),
  tts: TtsProfile.partial().optional(),
});

function builtIn(name: string, from: string): SimulatedProfile {
  const profile = BUILT_IN_PROFILES[name];
  if (!profile) {
    throw new ConfigError(`${from}: no built-in profile "${name}": use ${Object.keys(BUILT_IN_PROFILES).join(', ')} or a path to a JSON file`);
  }
  return profile;
}

/** A profile from a JSON value (a file's content); `source` names it in errors. */
export function profileFromJson(json: unknown, source: string): SimulatedProfile {
  const parsed = ProfileFile.safeParse(json);
  if (!parsed.success) throw new ConfigError(`${source} is not a simulated-provider profile: ${issues(parsed.error)}`);
  const file = parsed.data;
  const base = builtIn(file.extends ?? DEFAULT_PROFILE, `${source} "extends"`);
  const merged = {
    name: file.name ?? source,
    vad: { ...base.vad, ...file.vad },
    asr: { ...base.asr, ...file.asr },
    llm: { ...base.llm, ...file.llm },
    tts: { ...base.tts, ...file.tts },
  };
  const checked = SimulatedProfileSchema.safeParse(merged);
  if (!checked.success) throw new ConfigError(`${source}: ${issues(checked.error)}`);
  return checked.data;
}

/**
 * `nameOrPath`: a built-in name, or a path to a JSON file (anything with a '/' or ending in
 * '.json'). A bad name, file or field is a ConfigError naming `setting`.
 */
export function loadSimulatedProfile(nameOrPath: string, setting = 'SIM_PROFILE'): SimulatedProfile {
  const isFile = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  if (!isFile) return builtIn(nameOrPath, `${setting}=${JSON.stringify(nameOrPath)}`);
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (error) {
    throw new ConfigError(`${setting}=${JSON.stringify(nameOrPath)}: cannot read the profile file (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${setting}=${JSON.stringify(nameOrPath)} is not valid JSON: ${(error as Error).message}`);
  }
  return profileFromJson(json, `${setting}=${JSON.stringify(nameOrPath)}`);
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
}
