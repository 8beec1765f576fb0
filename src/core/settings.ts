/** Applies a client's requested settings onto the current ones, checking every value. */
import { AUDIO_ENCODINGS, type AudioEncoding } from '../audio/codec.js';
import { GatewayError, type AudioFormat, type FormatPatch, type SessionSettings, type SettingsPatch } from './events.js';
import { checkToolChoice, checkToolDeclarations } from './tool-schemas.js';

/** What the tool checks need from the server: the names its own tools hold, and the size bound. */
export interface ToolLimits {
  serverToolNames: ReadonlySet<string>;
  declarationsMaxBytes: number;
}
const NO_SERVER_TOOLS: ToolLimits = { serverToolNames: new Set(), declarationsMaxBytes: 65536 };

export const SAMPLE_RATE_MIN_HZ = 8000;
export const SAMPLE_RATE_MAX_HZ = 48000;
const END_OF_TURN_SILENCE_RANGE_MS = [100, 5000] as const;
const BARGE_IN_RANGE_MS = [0, 5000] as const;
const PREFIX_PADDING_RANGE_MS = [0, 5000] as const;
const VAD_THRESHOLD_RANGE = [0.05, 0.99] as const;
const MAX_INSTRUCTIONS_CHARS = 20000;

function invalid(message: string): never {
  throw new GatewayError('invalid_argument', message);
}

function mergeFormat(field: string, current: AudioFormat, patch: FormatPatch | undefined): AudioFormat {
  if (!patch) return current;
  const encoding = patch.encoding ?? current.encoding;
  if (!(AUDIO_ENCODINGS as readonly string[]).includes(encoding)) {
    invalid(`${field}.encoding ${JSON.stringify(encoding)} is not supported: use ${AUDIO_ENCODINGS.join(', ')}`);
  }
  const sampleRateHz = patch.sampleRateHz ?? current.sampleRateHz;
  if (!Number.isInteger(sampleRateHz) || sampleRateHz < SAMPLE_RATE_MIN_HZ || sampleRateHz > SAMPLE_RATE_MAX_HZ) {
    invalid(`${field}.sample_rate_hz ${sampleRateHz} is out of range: use ${SAMPLE_RATE_MIN_HZ} to ${SAMPLE_RATE_MAX_HZ}`);
  }
  return { encoding: encoding as AudioEncoding, sampleRateHz };
}

function inRange(field: string, value: number, [min, max]: readonly [number, number]): number {
  if (!Number.isInteger(value) || value < min || value > max) invalid(`${field} ${value} is out of range: use ${min} to ${max}`);
  return value;
}

function fractionInRange(field: string, value: number, [min, max]: readonly [number, number]): number {
  if (!Number.isFinite(value) || value < min || value > max) invalid(`${field} ${value} is out of range: use ${min} to ${max}`);
  return value;
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
  if (!/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/.test(language)) invalid(`language ${JSON.stringify(language)} is not a BCP-47 tag like "en-US" or "hi"`);
  const instructions = patch.instructions ?? current.instructions;
  if (instructions.length > MAX_INSTRUCTIONS_CHARS) invalid(`instructions are ${instructions.length} characters long: at most ${MAX_INSTRUCTIONS_CHARS}`);
  const turn = { ...current.turn, ...patch.turn };
  const tools = patch.tools === undefined ? current.tools : checkToolDeclarations(patch.tools, toolLimits.serverToolNames, toolLimits.declarationsMaxBytes);
  const offered = new Set([...tools.map((t) => t.name), ...toolLimits.serverToolNames]);
  return {
    inputFormat: mergeFormat('input_format', current.inputFormat, patch.inputFormat),
    outputFormat: mergeFormat('output_format', current.outputFormat, patch.outputFormat),
    language,
    voice: patch.voice ?? current.voice,
    instructions,
    turn: {
      endOfTurnSource: turn.endOfTurnSource,
      endOfTurnSilenceMs: inRange('turn.end_of_turn_silence_ms', turn.endOfTurnSilenceMs, END_OF_TURN_SILENCE_RANGE_MS),
      bargeInMinSpeechMs: inRange('turn.barge_in_min_speech_ms', turn.bargeInMinSpeechMs, BARGE_IN_RANGE_MS),
      bargeInEnabled: turn.bargeInEnabled,
      autoRespond: turn.autoRespond,
      vadThreshold: fractionInRange('turn.vad_threshold', turn.vadThreshold, VAD_THRESHOLD_RANGE),
      prefixPaddingMs: inRange('turn.prefix_padding_ms', turn.prefixPaddingMs, PREFIX_PADDING_RANGE_MS),
    },
    tools,
    toolChoice: checkToolChoice(patch.toolChoice ?? current.toolChoice, offered),
    toolFiller: patch.toolFiller ?? current.toolFiller,
  };
}
