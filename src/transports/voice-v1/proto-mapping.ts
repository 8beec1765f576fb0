/**
 * Maps the voice.v1 Protobuf messages onto the core's events and back. Every transport that
 * speaks voice.v1 (gRPC, and WebSocket frames) uses this one mapping, so there is one contract.
 */
import { create } from '@bufbuild/protobuf';
import type { AudioEncoding as CoreEncoding } from '../../audio/codec.js';
import type { ClientEvent, EndOfTurnSource, InterruptionMode, ErrorCode, FormatPatch, ServerEvent, SessionSettings, SettingsPatch } from '../../core/events.js';
import * as pb from '../../gen/voice/v1/voice_pb.js';
import { toolResponseEvent, toolResultEvent, toolSettingsPatch, toolSettingsToPb } from './tool-mapping.js';

const ENCODING_TO_CORE: Record<number, CoreEncoding> = {
  [pb.AudioEncoding.PCM16]: 'pcm16',
  [pb.AudioEncoding.MULAW]: 'mulaw',
  [pb.AudioEncoding.ALAW]: 'alaw',
};
const ENCODING_TO_PB: Record<CoreEncoding, pb.AudioEncoding> = { pcm16: pb.AudioEncoding.PCM16, mulaw: pb.AudioEncoding.MULAW, alaw: pb.AudioEncoding.ALAW };
const EOT_TO_CORE: Record<number, EndOfTurnSource> = {
  [pb.EndOfTurnSource.ASR]: 'asr',
  [pb.EndOfTurnSource.VAD]: 'vad',
  [pb.EndOfTurnSource.COMMIT]: 'commit',
  [pb.EndOfTurnSource.SMART_TURN]: 'smart_turn',
};
const EOT_TO_PB: Record<EndOfTurnSource, pb.EndOfTurnSource> = { asr: pb.EndOfTurnSource.ASR, vad: pb.EndOfTurnSource.VAD, commit: pb.EndOfTurnSource.COMMIT, smart_turn: pb.EndOfTurnSource.SMART_TURN };
const MODE_TO_CORE: Record<number, InterruptionMode> = { [pb.InterruptionMode.IMMEDIATE]: 'immediate', [pb.InterruptionMode.PAUSE]: 'pause' };
const MODE_TO_PB: Record<InterruptionMode, pb.InterruptionMode> = { immediate: pb.InterruptionMode.IMMEDIATE, pause: pb.InterruptionMode.PAUSE };
const ERROR_TO_PB: Record<ErrorCode, pb.ErrorCode> = {
  invalid_argument: pb.ErrorCode.INVALID_ARGUMENT,
  unauthenticated: pb.ErrorCode.UNAUTHENTICATED,
  resource_exhausted: pb.ErrorCode.RESOURCE_EXHAUSTED,
  failed_precondition: pb.ErrorCode.FAILED_PRECONDITION,
  asr_unavailable: pb.ErrorCode.ASR_UNAVAILABLE,
  llm_unavailable: pb.ErrorCode.LLM_UNAVAILABLE,
  tts_unavailable: pb.ErrorCode.TTS_UNAVAILABLE,
  internal: pb.ErrorCode.INTERNAL,
  unavailable: pb.ErrorCode.UNAVAILABLE,
  resume_refused: pb.ErrorCode.RESUME_REFUSED,
  reconnect_to_resume: pb.ErrorCode.RECONNECT_TO_RESUME,
};
const STATUS_TO_PB = { completed: pb.ResponseStatus.COMPLETED, interrupted: pb.ResponseStatus.INTERRUPTED, failed: pb.ResponseStatus.FAILED } as const;
const STABILITY_TO_PB = { partial: pb.TranscriptStability.PARTIAL, stable: pb.TranscriptStability.STABLE, final: pb.TranscriptStability.FINAL } as const;
const SPECULATIVE_TO_PB = { none: pb.SpeculativeOutcome.UNSPECIFIED, hit: pb.SpeculativeOutcome.HIT, miss: pb.SpeculativeOutcome.MISS } as const;

/** A format left out keeps the server's; a format sent must be complete (0 is no rate). */
function formatPatch(format: pb.AudioFormat | undefined): FormatPatch | undefined {
  if (!format) return undefined;
  const encoding = ENCODING_TO_CORE[format.encoding] ?? (format.encoding === pb.AudioEncoding.UNSPECIFIED ? 'unspecified' : `enum value ${format.encoding}`);
  return { encoding, sampleRateHz: format.sampleRateHz };
}

export function settingsPatch(settings: pb.SessionSettings | undefined): SettingsPatch {
  if (!settings) return {};
  const patch: SettingsPatch = { inputFormat: formatPatch(settings.inputFormat), outputFormat: formatPatch(settings.outputFormat) };
  if (settings.language) patch.language = settings.language;
  if (settings.voice) patch.voice = settings.voice;
  if (settings.instructions) patch.instructions = settings.instructions;
  const turn = settings.turn;
  if (turn) {
    patch.turn = {};
    const source = EOT_TO_CORE[turn.endOfTurnSource];
    if (source) patch.turn.endOfTurnSource = source;
    if (turn.endOfTurnSilenceMs) patch.turn.endOfTurnSilenceMs = turn.endOfTurnSilenceMs;
    if (turn.bargeInMinSpeechMs) patch.turn.bargeInMinSpeechMs = turn.bargeInMinSpeechMs;
    if (turn.bargeInDisabled) patch.turn.bargeInEnabled = false;
    if (turn.endOfTurnMaxSilenceMs) patch.turn.endOfTurnMaxSilenceMs = turn.endOfTurnMaxSilenceMs;
    const mode = MODE_TO_CORE[turn.interruptionMode];
    if (mode) patch.turn.interruptionMode = mode;
    if (turn.bargeInMinWords) patch.turn.bargeInMinWords = turn.bargeInMinWords;
    if (turn.falseInterruptionTimeoutMs) patch.turn.falseInterruptionTimeoutMs = turn.falseInterruptionTimeoutMs;
  }
  toolSettingsPatch(settings, patch);
  return patch;
}

/** The core event for a request, or null when the request carries no event. */
export function toClientEvent(request: pb.ConverseRequest): ClientEvent | null {
  const event = request.event;
  switch (event.case) {
    case 'start': {
      const { settings, metadata, resumeToken, played } = event.value;
      if (!resumeToken) return { type: 'start', settings: settingsPatch(settings), metadata };
      return { type: 'start', settings: {}, metadata, resumeToken, ...(played ? { played: { responseId: played.responseId, playedMs: played.playedMs } } : {}) };
    }
    case 'audio':
      return { type: 'audio', data: event.value.data };
    case 'text':
      return { type: 'text', text: event.value.text };
    case 'commit':
      return { type: 'commit' };
    case 'interrupt':
      return { type: 'interrupt' };
    case 'playback':
      return { type: 'playback', responseId: event.value.responseId, playedMs: event.value.playedMs };
    case 'update':
      return { type: 'update', settings: settingsPatch(event.value.settings) };
    case 'toolResult':
      return toolResultEvent(event.value);
    case undefined:
      return null;
  }
}

export function settingsToPb(settings: SessionSettings): pb.SessionSettings {
  return create(pb.SessionSettingsSchema, {
    inputFormat: { encoding: ENCODING_TO_PB[settings.inputFormat.encoding], sampleRateHz: settings.inputFormat.sampleRateHz },
    outputFormat: { encoding: ENCODING_TO_PB[settings.outputFormat.encoding], sampleRateHz: settings.outputFormat.sampleRateHz },
    language: settings.language,
    voice: settings.voice,
    instructions: settings.instructions,
    turn: {
      endOfTurnSource: EOT_TO_PB[settings.turn.endOfTurnSource],
      endOfTurnSilenceMs: settings.turn.endOfTurnSilenceMs,
      bargeInMinSpeechMs: settings.turn.bargeInMinSpeechMs,
      bargeInDisabled: !settings.turn.bargeInEnabled,
      endOfTurnMaxSilenceMs: settings.turn.endOfTurnMaxSilenceMs,
      interruptionMode: MODE_TO_PB[settings.turn.interruptionMode],
      bargeInMinWords: settings.turn.bargeInMinWords,
      falseInterruptionTimeoutMs: settings.turn.falseInterruptionTimeoutMs,
    },
    ...toolSettingsToPb(settings),
  });
}

export function toResponse(event: ServerEvent): pb.ConverseResponse {
  return create(pb.ConverseResponseSchema, { event: responseEvent(event) });
}

function responseEvent(event: ServerEvent): pb.ConverseResponse['event'] {
  switch (event.type) {
    case 'ready': {
      const { sessionId, settings, resumed = false, resumeToken = '', resumeWindowMs = 0 } = event;
      return { case: 'ready', value: create(pb.SessionReadySchema, { sessionId, settings: settingsToPb(settings), resumeToken, resumed, resumeWindowMs }) };
    }
    case 'response_resumed': {
      const { responseId, turnId, playedMs, earlierText } = event;
      return { case: 'responseResumed', value: create(pb.ResponseResumedSchema, { responseId, turnId, playedMs: Math.round(playedMs), earlierText }) };
    }
    case 'speech_started':
      return { case: 'speechStarted', value: create(pb.SpeechStartedSchema, { audioOffsetMs: event.audioOffsetMs }) };
    case 'speech_stopped':
      return { case: 'speechStopped', value: create(pb.SpeechStoppedSchema, { audioOffsetMs: event.audioOffsetMs }) };
    case 'transcript':
      return { case: 'transcript', value: create(pb.TranscriptSchema, { turnId: event.turnId, stability: STABILITY_TO_PB[event.stability], text: event.text }) };
    case 'response_started':
      return { case: 'responseStarted', value: create(pb.ResponseStartedSchema, { responseId: event.responseId, turnId: event.turnId }) };
    case 'response_text':
      return { case: 'responseText', value: create(pb.ResponseTextSchema, { responseId: event.responseId, delta: event.delta }) };
    case 'response_audio':
      return { case: 'responseAudio', value: create(pb.ResponseAudioSchema, { responseId: event.responseId, data: event.data, offsetMs: event.offsetMs }) };
    case 'response_done':
      return {
        case: 'responseDone',
        value: create(pb.ResponseDoneSchema, {
          responseId: event.responseId,
          status: STATUS_TO_PB[event.status],
          heardText: event.heardText,
          audioSentMs: event.audioSentMs,
          heardTextEstimated: event.heardTextEstimated ?? false,
          heardMs: event.heardMs ?? 0,
          falseInterruptions: event.falseInterruptions ?? 0,
        }),
      };
    case 'response_paused':
      return { case: 'responsePaused', value: create(pb.ResponsePausedSchema, { responseId: event.responseId, audioSentMs: event.audioSentMs }) };
    case 'response_unpaused':
      return { case: 'responseUnpaused', value: create(pb.ResponseUnpausedSchema, { responseId: event.responseId, offsetMs: event.offsetMs }) };
    case 'turn_metrics': {
      const m = event.metrics;
      return {
        case: 'turnMetrics',
        value: create(pb.TurnMetricsSchema, {
          turnId: m.turnId,
          responseId: m.responseId,
          eouDelayMs: m.eouDelayMs ?? 0,
          asrFinalMs: m.asrFinalMs ?? 0,
          llmTtftMs: m.llmTtftMs ?? 0,
          llmFirstPieceMs: m.llmFirstPieceMs ?? 0,
          ttsTtfbMs: m.ttsTtfbMs ?? 0,
          voiceToVoiceMs: m.voiceToVoiceMs ?? 0,
          speculative: SPECULATIVE_TO_PB[m.speculative],
        }),
      };
    }
    case 'error':
      return { case: 'error', value: create(pb.ErrorSchema, { code: ERROR_TO_PB[event.code], message: event.message, sessionContinues: event.sessionContinues }) };
    case 'tool_call':
    case 'tool_call_cancelled':
    case 'tool_activity':
      return toolResponseEvent(event);
    case 'item_added':
    case 'item_retrieved':
    case 'item_truncated':
    case 'item_deleted':
    case 'input_cleared':
    case 'settings_updated':
      // Item events go only to sessions started with itemEvents, which voice.v1 never asks for.
      return { case: undefined };
  }
}
