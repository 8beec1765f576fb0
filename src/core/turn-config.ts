/**
 * Every knob of turn-taking, declared once: its unit, its bounds, its default, the environment
 * variable that sets the server's value and, for the knobs a client may change per session, the
 * name a client sees in errors. Everything else derives from this table: the environment schema
 * (config/schema.ts), the per-session checks (./settings.ts), the OpenAI Realtime
 * `turn_detection` bounds (transports/realtime/session-config.ts), the composition root's
 * session config (server.ts) and the test harness (test/support/session-harness.ts).
 *
 * Adding a knob: a row here, the field where it is used (and in `TurnSettings` if a client may
 * change it, with its proto field if voice.v1 carries it). The environment variable, its `--help`,
 * its bounds and its default follow from the row.
 */
import type { EndOfTurnSource, InterruptionMode, TurnSettings } from './events.js';
import type { VadSegmenterSettings } from './vad-segmenter.js';

interface KnobBase {
  /** The environment variable of the server's value; none: a fixed default a client may change. */
  env?: string;
  /** For `--help`: what it does (unit and bounds are added). */
  help: string;
  /** The field's name in client settings (errors name it), for knobs a client may change. */
  clientField?: string;
}
export interface IntKnob extends KnobBase {
  kind: 'int';
  unit: 'ms' | 'chars' | 'count' | 'words';
  min: number;
  max: number;
  default: number;
}
export interface FractionKnob extends KnobBase {
  kind: 'fraction';
  min: number;
  max: number;
  default: number;
}
export interface BoolKnob extends KnobBase {
  kind: 'bool';
  default: boolean;
}
export interface ChoiceKnob<T extends string> extends KnobBase {
  kind: 'choice';
  values: readonly [T, ...T[]];
  default: T;
}
export type TurnKnob = IntKnob | FractionKnob | BoolKnob | ChoiceKnob<string>;

const END_OF_TURN_SOURCES = ['asr', 'vad', 'commit', 'smart_turn'] as const satisfies readonly EndOfTurnSource[];
const INTERRUPTION_MODES = ['immediate', 'pause'] as const satisfies readonly InterruptionMode[];

export const TURN_KNOBS = {
  // A client may change these per session (TurnSettings).
  endOfTurnSource: {
    kind: 'choice', values: END_OF_TURN_SOURCES, default: 'vad', env: 'TURN_END_SOURCE', clientField: 'turn.end_of_turn_source',
    help: 'What ends the user turn: asr (recognizer endpointing), vad (silence), commit (push-to-talk), smart_turn (the Smart Turn model, asked after TURN_END_SILENCE_MS of silence)',
  } satisfies ChoiceKnob<EndOfTurnSource>,
  endOfTurnSilenceMs: {
    kind: 'int', unit: 'ms', min: 100, max: 5000, default: 500, env: 'TURN_END_SILENCE_MS', clientField: 'turn.end_of_turn_silence_ms',
    help: 'Silence (ms) that ends the turn when VAD decides',
  },
  bargeInMinSpeechMs: {
    kind: 'int', unit: 'ms', min: 0, max: 5000, default: 250, env: 'BARGE_IN_MIN_SPEECH_MS', clientField: 'turn.barge_in_min_speech_ms',
    help: 'User speech (ms) during a reply that interrupts it',
  },
  bargeInEnabled: { kind: 'bool', default: true, env: 'BARGE_IN_ENABLED', help: 'Let user speech interrupt replies' },
  autoRespond: { kind: 'bool', default: true, help: 'The end of a user turn starts a reply (else the client asks with respond)' },
  vadThreshold: {
    kind: 'fraction', min: 0.05, max: 0.99, default: 0.5, env: 'VAD_THRESHOLD', clientField: 'turn.vad_threshold',
    help: 'Speech probability that starts speech',
  },
  prefixPaddingMs: {
    kind: 'int', unit: 'ms', min: 0, max: 5000, default: 0, clientField: 'turn.prefix_padding_ms',
    help: 'speech_started is reported this much (ms) before the detected onset',
  },
  endOfTurnMaxSilenceMs: {
    kind: 'int', unit: 'ms', min: 100, max: 10000, default: 2000, env: 'TURN_END_MAX_SILENCE_MS', clientField: 'turn.end_of_turn_max_silence_ms',
    help: 'With smart_turn: silence (ms) that ends the turn whatever the model says (it is asked again as the silence grows until then)',
  },
  interruptionMode: {
    kind: 'choice', values: INTERRUPTION_MODES, default: 'immediate', env: 'INTERRUPTION_MODE', clientField: 'turn.interruption_mode',
    help: 'What user speech does while the agent speaks: immediate (interrupts the reply), pause (pauses it; words that are not a backchannel interrupt it, none resume it)',
  } satisfies ChoiceKnob<InterruptionMode>,
  bargeInMinWords: {
    kind: 'int', unit: 'words', min: 1, max: 20, default: 1, env: 'BARGE_IN_MIN_WORDS', clientField: 'turn.barge_in_min_words',
    help: 'With pause: words (not only backchannel such as "uh-huh", "yeah") that make speech an interruption',
  },
  falseInterruptionTimeoutMs: {
    kind: 'int', unit: 'ms', min: 100, max: 10000, default: 1000, env: 'FALSE_INTERRUPTION_TIMEOUT_MS', clientField: 'turn.false_interruption_timeout_ms',
    help: 'With pause: a paused reply resumes when no interrupting words came this long (ms) after the speech stopped',
  },
  // The server's alone.
  smartTurnThreshold: { kind: 'fraction', min: 0.01, max: 0.99, default: 0.5, env: 'TURN_MODEL_THRESHOLD', help: 'With smart_turn: the model probability at or above which the turn is complete' },
  vadNegThreshold: { kind: 'fraction', min: 0.01, max: 0.99, default: 0.35, env: 'VAD_NEG_THRESHOLD', help: 'Speech probability below which audio is silence' },
  vadMinSpeechMs: { kind: 'int', unit: 'ms', min: 0, max: 2000, default: 100, env: 'VAD_MIN_SPEECH_MS', help: 'Speech shorter than this (ms) is noise' },
  vadMinSilenceMs: { kind: 'int', unit: 'ms', min: 32, max: 5000, default: 300, env: 'VAD_MIN_SILENCE_MS', help: 'Silence (ms) that ends a stretch of speech' },
  asrFinalWaitMs: { kind: 'int', unit: 'ms', min: 50, max: 10000, default: 1500, env: 'ASR_FINAL_WAIT_MS', help: 'Longest wait (ms) for a final transcript after the turn ended' },
  cancelBudgetMs: { kind: 'int', unit: 'ms', min: 10, max: 10000, default: 300, env: 'CANCEL_BUDGET_MS', help: 'A provider still busy this long (ms) after abort is abandoned' },
  speculativeStart: {
    kind: 'bool', default: true, env: 'SPECULATIVE_START',
    help: 'Start the LLM on a stable interim transcript (Riva early end of utterance); the final confirms it or restarts it, and its audio is held until confirmed',
  },
  maxPieceChars: { kind: 'int', unit: 'chars', min: 20, max: 2000, default: 200, env: 'TTS_MAX_PIECE_CHARS', help: 'Longest text (chars) sent to TTS at once' },
  turnMaxSpeechMs: {
    kind: 'int', unit: 'ms', min: 1000, max: 3600000, default: 120000, env: 'TURN_MAX_SPEECH_MS',
    help: 'A user turn that lasts this long (ms of audio since it began) is ended and answered, so a turn without end (a stuck microphone) cannot grow without bound',
  },
  // Tools in a reply (core/tool-rounds.ts).
  toolMaxRounds: {
    kind: 'int', unit: 'count', min: 1, max: 16, default: 4, env: 'TOOL_MAX_ROUNDS',
    help: 'Tool rounds (the LLM calls tools, gets the results, goes on) in one reply at most; the last request asks for an answer without tools',
  },
  toolTimeoutMs: {
    kind: 'int', unit: 'ms', min: 100, max: 600000, default: 10000, env: 'TOOL_TIMEOUT_MS',
    help: 'A tool call with no result this long (ms) is cancelled and the LLM told so (a tool may set its own)',
  },
  toolFillerAfterMs: {
    kind: 'int', unit: 'ms', min: 0, max: 60000, default: 1500, env: 'TOOL_FILLER_AFTER_MS',
    help: 'While tools run, the agent says a filler ("One moment.") after this much silence (ms), and again after each such silence (0: never)',
  },
  toolArgumentRetries: {
    kind: 'int', unit: 'count', min: 0, max: 10, default: 2, env: 'TOOL_ARGUMENT_RETRIES',
    help: 'Tool calls with arguments that do not fit (bad JSON, wrong fields, no such tool) answered to the LLM per reply before it must answer without tools',
  },
} as const satisfies Record<string, TurnKnob>;

/** Fixed rules, not settings. A commit needs this much audio since the last end of turn (as OpenAI's Realtime API asks). */
export const MIN_COMMIT_AUDIO_MS = 100;
/** The first piece of a reply may end at a comma once it has this many characters (the bench predicts it too). */
export const FIRST_PIECE_MIN_CHARS = 12;

export type TurnKnobName = keyof typeof TURN_KNOBS;
type ValueOf<K extends TurnKnob> = K extends BoolKnob ? boolean : K extends ChoiceKnob<infer T> ? T : number;
export type TurnValues = { -readonly [N in TurnKnobName]: ValueOf<(typeof TURN_KNOBS)[N]> };

/** Why `value` is not accepted for `knob` (named `field`), or null. */
export function knobProblem(knob: TurnKnob, field: string, value: unknown): string | null {
  switch (knob.kind) {
    case 'bool':
      return typeof value === 'boolean' ? null : `${field} must be true or false`;
    case 'choice':
      return knob.values.includes(value as string) ? null : `${field} ${JSON.stringify(value)} is not accepted: use ${knob.values.join(', ')}`;
    case 'int':
    case 'fraction': {
      const n = value as number;
      const ok = typeof n === 'number' && (knob.kind === 'int' ? Number.isInteger(n) : Number.isFinite(n)) && n >= knob.min && n <= knob.max;
      return ok ? null : `${field} ${String(value)} is out of range: use ${knob.min} to ${knob.max}`;
    }
  }
}

/** The defaults with `overrides`, each checked against its bounds (a RangeError names the knob). */
export function turnValues(overrides: Partial<TurnValues> = {}): TurnValues {
  const values = {} as Record<TurnKnobName, unknown>;
  for (const [name, knob] of Object.entries(TURN_KNOBS) as Array<[TurnKnobName, TurnKnob]>) {
    const value = overrides[name] ?? knob.default;
    const problem = knobProblem(knob, name, value);
    if (problem) throw new RangeError(problem);
    values[name] = value;
  }
  return values as TurnValues;
}

/** The part of the values a client may change per session: a session's starting `turn` settings. */
export function sessionTurnSettings(v: TurnValues): TurnSettings {
  return {
    endOfTurnSource: v.endOfTurnSource,
    endOfTurnSilenceMs: v.endOfTurnSilenceMs,
    bargeInMinSpeechMs: v.bargeInMinSpeechMs,
    bargeInEnabled: v.bargeInEnabled,
    autoRespond: v.autoRespond,
    vadThreshold: v.vadThreshold,
    prefixPaddingMs: v.prefixPaddingMs,
    endOfTurnMaxSilenceMs: v.endOfTurnMaxSilenceMs,
    interruptionMode: v.interruptionMode,
    bargeInMinWords: v.bargeInMinWords,
    falseInterruptionTimeoutMs: v.falseInterruptionTimeoutMs,
  };
}

/** The VAD segmenter's settings; the silence threshold never above the speech threshold. */
export function vadSegmenterSettings(v: TurnValues): VadSegmenterSettings {
  return { threshold: v.vadThreshold, negThreshold: Math.min(v.vadNegThreshold, v.vadThreshold), minSpeechMs: v.vadMinSpeechMs, minSilenceMs: v.vadMinSilenceMs };
}

/** What the session engine takes from the values besides the client's `turn` settings (SessionConfig). */
export function turnEngineSettings(v: TurnValues): { vad: VadSegmenterSettings; asrFinalWaitMs: number; cancelBudgetMs: number; maxPieceChars: number; speculativeStart: boolean; turnMaxSpeechMs: number; smartTurnThreshold: number } {
  const { asrFinalWaitMs, cancelBudgetMs, maxPieceChars, speculativeStart, turnMaxSpeechMs, smartTurnThreshold } = v;
  return { vad: vadSegmenterSettings(v), asrFinalWaitMs, cancelBudgetMs, maxPieceChars, speculativeStart, turnMaxSpeechMs, smartTurnThreshold };
}
