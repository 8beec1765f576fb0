/** Applies a client's requested settings onto the current ones, checking every value. */
import { AUDIO_ENCODINGS, type AudioEncoding } from '../audio/codec.js';
import { quoted } from './client-text.js';
import { GatewayError, type AudioFormat, type FormatPatch, type SessionSettings, type SettingsPatch } from './events.js';
import { knobProblem, TURN_KNOBS, type TurnKnob } from './turn-config.js';
import { checkToolChoice, checkToolDeclarations } from './tool-schemas.js';

/** What the tool checks need from the server: the names its own tools hold, and the size bound. */
export interface ToolLimits {
  serverToolNames: ReadonlySet<string>;
  declarationsMaxBytes: number;
}
const NO_SERVER_TOOLS: ToolLimits = { serverToolNames: new Set(), declarationsMaxBytes: 65536 };

export const SAMPLE_RATE_MIN_HZ = 8000;
export const SAMPLE_RATE_MAX_HZ = 48000;
const MAX_INSTRUCTIONS_CHARS = 20000;
const MAX_VOICE_CHARS = 128;
/** BCP-47 tags in use are far shorter; the bound keeps the pattern test cheap. */
const MAX_LANGUAGE_CHARS = 64;
/**
 * Voice names as engines spell them (Riva "Magpie-Multilingual.EN-US.Aria", espeak "en-us+f3",
 * "English_(America)"): no control characters, quotes or markup, which no engine needs and which
 * would travel into logs and provider requests.
 */
const VOICE_NAME = /^[\p{L}\p{N} ._:+()/@-]*$/u;

function invalid(message: string): never {
  throw new GatewayError('invalid_argument', message);
}

function mergeFormat(field: string, current: AudioFormat, patch: FormatPatch | undefined): AudioFormat {
  if (!patch) return current;
  const encoding = patch.encoding ?? current.encoding;
  if (!(AUDIO_ENCODINGS as readonly string[]).includes(encoding)) {
    invalid(`${field}.encoding ${quoted(encoding)} is not supported: use ${AUDIO_ENCODINGS.join(', ')}`);
  }
  const sampleRateHz = patch.sampleRateHz ?? current.sampleRateHz;
  if (!Number.isInteger(sampleRateHz) || sampleRateHz < SAMPLE_RATE_MIN_HZ || sampleRateHz > SAMPLE_RATE_MAX_HZ) {
    invalid(`${field}.sample_rate_hz ${sampleRateHz} is out of range: use ${SAMPLE_RATE_MIN_HZ} to ${SAMPLE_RATE_MAX_HZ}`);
  }
  return { encoding: encoding as AudioEncoding, sampleRateHz };
}

/** `value` if its knob (core/turn-config.ts) accepts it, else an invalid_argument naming the client's field. */
function checked<T>(knob: TurnKnob & { clientField: string }, value: T): T {
  const problem = knobProblem(knob, knob.clientField, value);
  if (problem) invalid(problem);
  return value;
}

function checkVoice(voice: string): string {
  if (voice.length > MAX_VOICE_CHARS) invalid(`voice is ${voice.length} characters long: at most ${MAX_VOICE_CHARS}`);
  if (!VOICE_NAME.test(voice)) invalid(`voice ${quoted(voice)} may hold only letters, digits, spaces and . _ : + ( ) / @ -: pick a name from ListVoices`);
  return voice;
}

/**
 * The settings after `patch`. `inputFormatLocked` refuses a change of input format (once audio has
 * come in, the recognizer and VAD streams hold state at the old rate).
 */
export function applySettings(current: SessionSettings, patch: SettingsPatch, inputFormatLocked = false, toolLimits: ToolLimits = NO_SERVER_TOOLS): SessionSettings {
  if (inputFormatLocked && patch.inputFormat && (patch.inputFormat.encoding !== undefined || patch.inputFormat.sampleRateHz !== undefined)) {
    const next = mergeFormat('input_format', current.inputFormat, patch.inputFormat);
    if (next.encoding !== current.inputFormat.encoding || next.sampleRateHz !== current.inputFormat.sampleRateHz) {
      invalid('input_format cannot change once audio has been sent: start a new session for another input format');
    }
  }
  const language = patch.language ?? current.language;
  if (language.length > MAX_LANGUAGE_CHARS || !/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/.test(language)) invalid(`language ${quoted(language)} is not a BCP-47 tag like "en-US" or "hi"`);
  const instructions = patch.instructions ?? current.instructions;
  if (instructions.length > MAX_INSTRUCTIONS_CHARS) invalid(`instructions are ${instructions.length} characters long: at most ${MAX_INSTRUCTIONS_CHARS}`);
  const turn = { ...current.turn, ...patch.turn };
  const tools = patch.tools === undefined ? current.tools : checkToolDeclarations(patch.tools, toolLimits.serverToolNames, toolLimits.declarationsMaxBytes);
  const offered = new Set([...tools.map((t) => t.name), ...toolLimits.serverToolNames]);
  return {
    inputFormat: mergeFormat('input_format', current.inputFormat, patch.inputFormat),
    outputFormat: mergeFormat('output_format', current.outputFormat, patch.outputFormat),
    language,
    voice: patch.voice === undefined ? current.voice : checkVoice(patch.voice),
    instructions,
    turn: {
      endOfTurnSource: turn.endOfTurnSource,
      endOfTurnSilenceMs: checked(TURN_KNOBS.endOfTurnSilenceMs, turn.endOfTurnSilenceMs),
      bargeInMinSpeechMs: checked(TURN_KNOBS.bargeInMinSpeechMs, turn.bargeInMinSpeechMs),
      bargeInEnabled: turn.bargeInEnabled,
      autoRespond: turn.autoRespond,
      vadThreshold: checked(TURN_KNOBS.vadThreshold, turn.vadThreshold),
      prefixPaddingMs: checked(TURN_KNOBS.prefixPaddingMs, turn.prefixPaddingMs),
      endOfTurnMaxSilenceMs: checked(TURN_KNOBS.endOfTurnMaxSilenceMs, turn.endOfTurnMaxSilenceMs),
      interruptionMode: checked(TURN_KNOBS.interruptionMode, turn.interruptionMode),
      bargeInMinWords: checked(TURN_KNOBS.bargeInMinWords, turn.bargeInMinWords),
      falseInterruptionTimeoutMs: checked(TURN_KNOBS.falseInterruptionTimeoutMs, turn.falseInterruptionTimeoutMs),
    },
    tools,
    toolChoice: checkToolChoice(patch.toolChoice ?? current.toolChoice, offered),
    toolFiller: patch.toolFiller ?? current.toolFiller,
  };
}
