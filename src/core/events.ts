/**
 * The transport-independent event model (DESIGN §3). Transports map their wire format onto these
 * types; the session engine sees nothing else.
 */
import type { AudioEncoding } from '../audio/codec.js';

export type EndOfTurnSource = 'asr' | 'vad' | 'commit';

export interface AudioFormat {
  encoding: AudioEncoding;
  sampleRateHz: number;
}

export interface TurnSettings {
  /** What ends the user's turn. */
  endOfTurnSource: EndOfTurnSource;
  /** Silence after speech that ends the turn when VAD decides. */
  endOfTurnSilenceMs: number;
  /** Speech this long while the agent thinks or speaks interrupts it. */
  bargeInMinSpeechMs: number;
  bargeInEnabled: boolean;
}

/** Settings a client may choose per session; the server fills the rest from its defaults. */
export interface SessionSettings {
  inputFormat: AudioFormat;
  outputFormat: AudioFormat;
  language: string;
  voice: string;
  instructions: string;
  turn: TurnSettings;
}

/** A requested format; the encoding is a string so that an unknown one can be named in the error. */
export interface FormatPatch {
  encoding?: string;
  sampleRateHz?: number;
}

/** A partial request: what the client sent; unset fields keep the current or default value. */
export interface SettingsPatch {
  inputFormat?: FormatPatch;
  outputFormat?: FormatPatch;
  language?: string;
  voice?: string;
  instructions?: string;
  turn?: Partial<TurnSettings>;
}

export type ClientEvent =
  | { type: 'start'; settings: SettingsPatch; metadata: Record<string, string> }
  | { type: 'audio'; data: Uint8Array }
  | { type: 'text'; text: string }
  | { type: 'commit' }
  | { type: 'interrupt' }
  | { type: 'playback'; responseId: string; playedMs: number }
  | { type: 'update'; settings: SettingsPatch };

export type TranscriptStability = 'partial' | 'stable' | 'final';
export type ResponseStatus = 'completed' | 'interrupted' | 'failed';
export type SpeculativeOutcome = 'none' | 'hit' | 'miss';

export type ErrorCode =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'asr_unavailable'
  | 'llm_unavailable'
  | 'tts_unavailable'
  | 'internal';

/** Every latency of one turn, in ms (DESIGN §6). Undefined means not measured. */
export interface TurnMetrics {
  turnId: string;
  responseId: string;
  eouDelayMs?: number;
  asrFinalMs?: number;
  llmTtftMs?: number;
  llmFirstPieceMs?: number;
  ttsTtfbMs?: number;
  voiceToVoiceMs?: number;
  speculative: SpeculativeOutcome;
}

export type ServerEvent =
  | { type: 'ready'; sessionId: string; settings: SessionSettings }
  | { type: 'speech_started'; audioOffsetMs: number }
  | { type: 'speech_stopped'; audioOffsetMs: number }
  | { type: 'transcript'; turnId: string; stability: TranscriptStability; text: string }
  | { type: 'response_started'; responseId: string; turnId: string }
  | { type: 'response_text'; responseId: string; delta: string }
  | { type: 'response_audio'; responseId: string; data: Uint8Array; offsetMs: number }
  | { type: 'response_done'; responseId: string; status: ResponseStatus; heardText: string; audioSentMs: number }
  | { type: 'turn_metrics'; metrics: TurnMetrics }
  | { type: 'error'; code: ErrorCode; message: string; sessionContinues: boolean };

/** An error with a stable code for programs and a sentence for people. */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}
