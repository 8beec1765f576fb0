/**
 * The Realtime session object, both dialects: `session.update` in (a patch of the core's session
 * settings plus the fields only this protocol has), and the full session out for
 * `session.created` / `session.updated`. What the core decides (formats, voice, instructions,
 * turn detection) is always rendered from the core's effective settings, never from what the
 * client asked, so the session a client reads is the one it gets.
 *
 * Mapping (and where this gateway differs from OpenAI):
 * - formats: pcm16 at any rate the core takes (OpenAI: 24 kHz only), G.711 mu-law/A-law at 8 kHz.
 * - voice: OpenAI's built-in names select the server's voice (TTS_VOICE); any other name goes to
 *   the TTS as is. The name the client chose is shown back.
 * - turn_detection: null = push-to-talk (commit, no automatic reply, no barge-in); server_vad
 *   maps threshold, prefix_padding_ms, silence_duration_ms, create_response and
 *   interrupt_response onto TurnSettings; semantic_vad is served by silence too, with a silence
 *   window chosen by eagerness (there is no semantic end-of-turn model here). The gateway's own
 *   `interruption_mode: "pause"` (with `false_interruption_timeout_ms`) asks for pause-then-decide
 *   barge-in (events response.paused / response.resumed); without it OpenAI's semantics stay.
 * - input transcription on/off only decides whether transcription events are sent: the gateway
 *   always recognizes speech, since the LLM needs the words.
 * - tools: function tools (flat, as both dialects declare them) become the session's client tools
 *   and tool_choice its tool choice; the gateway checks their schemas. `mcp` tools are refused:
 *   the gateway's MCP servers are its own setting (MCP_SERVERS), never a client's.
 * - text-only output and transcription sessions are refused with an error; noise reduction,
 *   speed, idle_timeout_ms, tracing, max_output_tokens, temperature and the like are kept and
 *   shown back but change nothing.
 * - Everything kept and shown back has a checked shape and size (below): arbitrary JSON in
 *   `tracing` once reached JSON.stringify 100,000 levels deep and ended the process. Unknown keys
 *   inside these objects are dropped, never stored or echoed.
 */
import { z } from 'zod';
import type { AudioFormat, FormatPatch, SessionSettings, SettingsPatch, TurnSettings } from '../../core/events.js';
import { SAMPLE_RATE_MAX_HZ, SAMPLE_RATE_MIN_HZ } from '../../core/settings.js';
import { TURN_KNOBS } from '../../core/turn-config.js';
import { zodProblem } from './wire-error.js';
import { declaration, toolChoice, tools, toolsOf } from './session-tools-config.js';

export type Dialect = 'ga' | 'beta';

/** Fields of the Realtime session that only this protocol has (the core holds the rest). */
export interface RealtimeSessionState {
  model: string;
  /** null: no transcription events. */
  transcription: z.output<typeof transcription>;
  noiseReduction: z.output<typeof noiseReduction>;
  turnDetectionType: 'server_vad' | 'semantic_vad';
  eagerness?: string;
  idleTimeoutMs: number | null;
  /** The voice name the client chose, shown back (undefined: the server's). */
  voice?: string;
  speed: number;
  maxOutputTokens: number | 'inf';
  temperature: number;
  tracing: z.output<typeof tracing>;
}

export function initialState(model: string): RealtimeSessionState {
  return {
    model,
    transcription: null,
    noiseReduction: null,
    turnDetectionType: 'server_vad',
    idleTimeoutMs: null,
    speed: 1,
    maxOutputTokens: 'inf',
    temperature: 0.8,
    tracing: null,
  };
}

/** OpenAI's default padding before speech, kept in the turn's audio. */
const DEFAULT_PREFIX_PADDING_MS = 300;

/** The core settings a new Realtime session starts with: OpenAI's defaults (24 kHz, server VAD). */
export function initialPatch(): SettingsPatch {
  return {
    inputFormat: { encoding: 'pcm16', sampleRateHz: 24000 },
    outputFormat: { encoding: 'pcm16', sampleRateHz: 24000 },
    turn: { endOfTurnSource: 'vad', prefixPaddingMs: DEFAULT_PREFIX_PADDING_MS, autoRespond: true, bargeInEnabled: true, interruptionMode: 'immediate' },
  };
}

/** OpenAI's voices: this gateway's TTS has none of them, so they mean "the server's voice". */
const OPENAI_VOICES = new Set(['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar', 'fable', 'onyx', 'nova']);

/** Silence (ms) that ends a turn for each semantic_vad eagerness (OpenAI waits up to 8, 4, 2 s). */
const SEMANTIC_SILENCE_MS: Record<string, number> = { low: 1200, medium: 800, auto: 800, high: 500 };

const num = (min: number, max: number) => z.number().min(min).max(max);
const intMs = (min: number, max: number) => z.number().int().min(min).max(max);
/** The bounds of a turn knob (core/turn-config.ts): the core's own checks would refuse anything else. */
const knob = (k: { kind: 'int' | 'fraction'; min: number; max: number }) => (k.kind === 'int' ? intMs(k.min, k.max) : num(k.min, k.max));

const gaFormat = z.looseObject({ type: z.enum(['audio/pcm', 'audio/pcmu', 'audio/pcma']), rate: intMs(SAMPLE_RATE_MIN_HZ, SAMPLE_RATE_MAX_HZ).optional() });
const betaFormat = z.enum(['pcm16', 'g711_ulaw', 'g711_alaw']);
const turnDetection = z
  .looseObject({
    type: z.enum(['server_vad', 'semantic_vad']).default('server_vad'),
    threshold: knob(TURN_KNOBS.vadThreshold).optional(),
    prefix_padding_ms: knob(TURN_KNOBS.prefixPaddingMs).optional(),
    silence_duration_ms: knob(TURN_KNOBS.endOfTurnSilenceMs).optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
    // This gateway's extension (not OpenAI's): "pause" pauses a reply on user speech and resumes it
    // when no words came (response.paused / response.resumed); absent keeps OpenAI's barge-in.
    interruption_mode: z.enum(['immediate', 'pause']).optional(),
    false_interruption_timeout_ms: knob(TURN_KNOBS.falseInterruptionTimeoutMs).optional(),
    idle_timeout_ms: z.number().int().min(0).nullable().optional(),
  })
  .nullable();
const voice = z.union([z.string().min(1).max(200), z.looseObject({ id: z.string().min(1).max(200) })]);
/** Sizes of the fields kept only to be shown back (OpenAI documents no limits; these are generous). */
const NAME_MAX_CHARS = 128;
const TEXT_MAX_CHARS = 4096;
const METADATA_MAX_KEYS = 16;
const METADATA_VALUE_MAX_CHARS = 512;
const transcription = z
  .object({
    model: z.string().max(NAME_MAX_CHARS).optional(),
    language: z.string().max(35).optional(),
    prompt: z.string().max(TEXT_MAX_CHARS).optional(),
  })
  .nullable();
const noiseReduction = z.object({ type: z.enum(['near_field', 'far_field']) }).nullable();
const tracing = z.union([
  z.literal('auto'),
  z.null(),
  z.object({
    workflow_name: z.string().max(NAME_MAX_CHARS).optional(),
    group_id: z.string().max(NAME_MAX_CHARS).optional(),
    metadata: z
      .record(z.string().max(64), z.union([z.string().max(METADATA_VALUE_MAX_CHARS), z.number(), z.boolean(), z.null()]))
      .refine((m) => Object.keys(m).length <= METADATA_MAX_KEYS, `tracing.metadata holds at most ${METADATA_MAX_KEYS} keys`)
      .optional(),
  }),
]);
const common = {
  instructions: z.string().optional(),
  tools: tools.optional(),
  tool_choice: toolChoice.optional(),
  tracing: tracing.optional(),
  model: z.string().max(NAME_MAX_CHARS).optional(),
};

const gaSession = z.looseObject({
  ...common,
  type: z.literal('realtime', { error: 'only session.type "realtime" is supported: this gateway has no transcription-only sessions' }).optional(),
  output_modalities: z.array(z.literal('audio', { error: 'output_modalities must be ["audio"]: text-only replies are not supported yet' })).optional(),
  max_output_tokens: z.union([z.number().int().min(1), z.literal('inf')]).optional(),
  audio: z
    .looseObject({
      input: z
        .looseObject({
          format: gaFormat.optional(),
          transcription: transcription.optional(),
          noise_reduction: noiseReduction.optional(),
          turn_detection: turnDetection.optional(),
        })
        .optional(),
      output: z.looseObject({ format: gaFormat.optional(), voice: voice.optional(), speed: num(0.25, 1.5).optional() }).optional(),
    })
    .optional(),
});

const betaSession = z.looseObject({
  ...common,
  modalities: z.array(z.enum(['text', 'audio'])).refine((m) => m.includes('audio'), 'modalities must include "audio": text-only replies are not supported yet').optional(),
  voice: voice.optional(),
  input_audio_format: betaFormat.optional(),
  output_audio_format: betaFormat.optional(),
  input_audio_transcription: transcription.optional(),
  input_audio_noise_reduction: noiseReduction.optional(),
  turn_detection: turnDetection.optional(),
  temperature: num(0.6, 1.2).optional(),
  max_response_output_tokens: z.union([z.number().int().min(1), z.literal('inf')]).optional(),
  speed: num(0.25, 1.5).optional(),
});

/** What one session.update asks: the core's part and this protocol's part. */
export interface SessionUpdate {
  patch: SettingsPatch;
  /** Applied to the state when the core has accepted the patch. */
  state: Partial<RealtimeSessionState>;
}

/** Reads a session.update's `session`; throws a WireError naming the parameter at fault. */
export function readSessionUpdate(dialect: Dialect, session: unknown): SessionUpdate {
  if (dialect === 'ga') {
    const parsed = gaSession.safeParse(session);
    if (!parsed.success) throw zodProblem(parsed.error, 'session');
    const s = parsed.data;
    const input = s.audio?.input;
    const output = s.audio?.output;
    return collect({
      instructions: s.instructions,
      model: s.model,
      inputFormat: input?.format && gaFormatPatch(input.format),
      outputFormat: output?.format && gaFormatPatch(output.format),
      transcription: input?.transcription,
      noiseReduction: input?.noise_reduction,
      turnDetection: input?.turn_detection,
      voice: output?.voice,
      speed: output?.speed,
      tools: s.tools,
      toolChoice: s.tool_choice,
      maxOutputTokens: s.max_output_tokens,
      tracing: s.tracing,
    });
  }
  const parsed = betaSession.safeParse(session);
  if (!parsed.success) throw zodProblem(parsed.error, 'session');
  const s = parsed.data;
  return collect({
    instructions: s.instructions,
    model: s.model,
    inputFormat: s.input_audio_format && betaFormatPatch(s.input_audio_format),
    outputFormat: s.output_audio_format && betaFormatPatch(s.output_audio_format),
    transcription: s.input_audio_transcription,
    noiseReduction: s.input_audio_noise_reduction,
    turnDetection: s.turn_detection,
    voice: s.voice,
    speed: s.speed,
    tools: s.tools,
    toolChoice: s.tool_choice,
    maxOutputTokens: s.max_response_output_tokens,
    temperature: s.temperature,
    tracing: s.tracing,
  });
}

interface UpdateFields {
  instructions?: string;
  model?: string;
  inputFormat?: FormatPatch;
  outputFormat?: FormatPatch;
  transcription?: z.output<typeof transcription>;
  noiseReduction?: z.output<typeof noiseReduction>;
  turnDetection?: z.output<typeof turnDetection>;
  voice?: z.output<typeof voice>;
  speed?: number;
  tools?: z.output<typeof tools>;
  toolChoice?: z.output<typeof toolChoice>;
  maxOutputTokens?: number | 'inf';
  temperature?: number;
  tracing?: z.output<typeof tracing>;
}

function collect(f: UpdateFields): SessionUpdate {
  const patch: SettingsPatch = {};
  const state: Partial<RealtimeSessionState> = {};
  if (f.instructions !== undefined) patch.instructions = f.instructions;
  if (f.inputFormat) patch.inputFormat = f.inputFormat;
  if (f.outputFormat) patch.outputFormat = f.outputFormat;
  if (f.voice !== undefined) {
    const name = typeof f.voice === 'string' ? f.voice : f.voice.id;
    patch.voice = OPENAI_VOICES.has(name) ? '' : name;
    state.voice = name;
  }
  if (f.turnDetection !== undefined) {
    const td = f.turnDetection;
    if (td === null) {
      patch.turn = { endOfTurnSource: 'commit', autoRespond: false, bargeInEnabled: false };
    } else {
      const turn: Partial<TurnSettings> = {
        endOfTurnSource: 'vad',
        autoRespond: td.create_response ?? true,
        bargeInEnabled: td.interrupt_response ?? true,
        prefixPaddingMs: td.prefix_padding_ms ?? DEFAULT_PREFIX_PADDING_MS,
        interruptionMode: td.interruption_mode ?? 'immediate',
      };
      if (td.false_interruption_timeout_ms !== undefined) turn.falseInterruptionTimeoutMs = td.false_interruption_timeout_ms;
      if (td.type === 'semantic_vad') turn.endOfTurnSilenceMs = SEMANTIC_SILENCE_MS[td.eagerness ?? 'auto'];
      if (td.silence_duration_ms !== undefined) turn.endOfTurnSilenceMs = td.silence_duration_ms;
      if (td.threshold !== undefined) turn.vadThreshold = td.threshold;
      patch.turn = turn;
      state.turnDetectionType = td.type;
      state.eagerness = td.eagerness;
      state.idleTimeoutMs = td.idle_timeout_ms ?? null;
    }
  }
  if (f.transcription !== undefined) state.transcription = f.transcription;
  if (f.noiseReduction !== undefined) state.noiseReduction = f.noiseReduction;
  if (f.model !== undefined) state.model = f.model;
  if (f.speed !== undefined) state.speed = f.speed;
  if (f.tools !== undefined) patch.tools = f.tools.map(declaration);
  if (f.toolChoice !== undefined) patch.toolChoice = typeof f.toolChoice === 'string' ? f.toolChoice : { name: f.toolChoice.name };
  if (f.maxOutputTokens !== undefined) state.maxOutputTokens = f.maxOutputTokens;
  if (f.temperature !== undefined) state.temperature = f.temperature;
  if (f.tracing !== undefined) state.tracing = f.tracing;
  return { patch, state };
}

function gaFormatPatch(format: z.output<typeof gaFormat>): FormatPatch {
  if (format.type === 'audio/pcmu') return { encoding: 'mulaw', sampleRateHz: 8000 };
  if (format.type === 'audio/pcma') return { encoding: 'alaw', sampleRateHz: 8000 };
  return { encoding: 'pcm16', sampleRateHz: format.rate ?? 24000 };
}

function betaFormatPatch(format: z.output<typeof betaFormat>): FormatPatch {
  if (format === 'g711_ulaw') return { encoding: 'mulaw', sampleRateHz: 8000 };
  if (format === 'g711_alaw') return { encoding: 'alaw', sampleRateHz: 8000 };
  return { encoding: 'pcm16', sampleRateHz: 24000 };
}

export function gaFormatOf(format: AudioFormat): Record<string, unknown> {
  if (format.encoding === 'mulaw') return { type: 'audio/pcmu' };
  if (format.encoding === 'alaw') return { type: 'audio/pcma' };
  return { type: 'audio/pcm', rate: format.sampleRateHz };
}

export function betaFormatOf(format: AudioFormat): string {
  if (format.encoding === 'mulaw') return 'g711_ulaw';
  if (format.encoding === 'alaw') return 'g711_alaw';
  return 'pcm16';
}

/** The voice to show: the name the client chose, else the server's. */
export function voiceOf(state: RealtimeSessionState, settings: SessionSettings): string {
  return state.voice ?? (settings.voice || 'default');
}

function turnDetectionOf(state: RealtimeSessionState, settings: SessionSettings): Record<string, unknown> | null {
  const turn = settings.turn;
  if (turn.endOfTurnSource === 'commit') return null;
  const pause = turn.interruptionMode === 'pause' ? { interruption_mode: 'pause', false_interruption_timeout_ms: turn.falseInterruptionTimeoutMs } : {};
  const common = { create_response: turn.autoRespond, interrupt_response: turn.bargeInEnabled, ...pause };
  if (state.turnDetectionType === 'semantic_vad') return { type: 'semantic_vad', eagerness: state.eagerness ?? 'auto', ...common };
  return {
    type: 'server_vad',
    threshold: turn.vadThreshold,
    prefix_padding_ms: turn.prefixPaddingMs,
    silence_duration_ms: turn.endOfTurnSilenceMs,
    idle_timeout_ms: state.idleTimeoutMs,
    ...common,
  };
}

/** The full session object of `session.created` / `session.updated`. */
export function renderSession(dialect: Dialect, sessionId: string, state: RealtimeSessionState, settings: SessionSettings): Record<string, unknown> {
  const turnDetection = turnDetectionOf(state, settings);
  if (dialect === 'beta') {
    return {
      id: sessionId,
      object: 'realtime.session',
      model: state.model,
      modalities: ['text', 'audio'],
      instructions: settings.instructions,
      voice: voiceOf(state, settings),
      input_audio_format: betaFormatOf(settings.inputFormat),
      output_audio_format: betaFormatOf(settings.outputFormat),
      input_audio_transcription: state.transcription,
      input_audio_noise_reduction: state.noiseReduction,
      turn_detection: turnDetection,
      ...toolsOf(settings),
      temperature: state.temperature,
      max_response_output_tokens: state.maxOutputTokens,
      speed: state.speed,
      tracing: state.tracing,
    };
  }
  return {
    type: 'realtime',
    object: 'realtime.session',
    id: sessionId,
    model: state.model,
    output_modalities: ['audio'],
    instructions: settings.instructions,
    audio: {
      input: {
        format: gaFormatOf(settings.inputFormat),
        transcription: state.transcription,
        noise_reduction: state.noiseReduction,
        turn_detection: turnDetection,
      },
      output: { format: gaFormatOf(settings.outputFormat), voice: voiceOf(state, settings), speed: state.speed },
    },
    ...toolsOf(settings),
    max_output_tokens: state.maxOutputTokens,
    tracing: state.tracing,
    truncation: 'auto',
    prompt: null,
    include: null,
  };
}
