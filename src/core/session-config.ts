/**
 * What a session is given and whom it tells: the server's per-session configuration (from the
 * settings, server.ts), the fixed causes a session ends with, and the observers (metrics, traces,
 * logs) that learn what happened without sitting in the audio path.
 */
import type { ErrorCode, SessionSettings } from './events.js';
import type { ToolsConfig } from './session-tools.js';
import type { TurnReport } from './turn-metrics.js';
import type { VadSegmenterSettings } from './vad-segmenter.js';

/** What the server decides for every session (from the configuration). */
export interface SessionConfig {
  defaults: SessionSettings;
  vad: VadSegmenterSettings;
  asrFinalWaitMs: number;
  cancelBudgetMs: number;
  maxPieceChars: number;
  llmTemperature: number;
  llmMaxTokens: number;
  maxDurationMs: number;
  idleTimeoutMs: number;
  maxTextChars: number;
  inboundQueueMaxMessages: number;
  /** Bytes of client messages waiting to be processed (audio counts its bytes). */
  inboundQueueMaxBytes: number;
  outboundQueueMaxBytes: number;
  /** A session whose client sends no `start` within this is closed. */
  startTimeoutMs: number;
  /** A user turn that lasts this long (audio ms since it began) is ended and answered. */
  turnMaxSpeechMs: number;
  /** With smart_turn: the model probability at or above which the turn is complete (TURN_MODEL_THRESHOLD). */
  smartTurnThreshold: number;
  /** What is sent to the LLM is cut to this many (estimated) tokens, oldest turns first (LLM_CONTEXT_TOKENS). */
  llmContextTokens: number;
  /** A stable interim transcript starts the reply early; the final confirms or restarts it. */
  speculativeStart: boolean;
  /** Tools: the gateway's own (MCP), the tool knobs, fillers and bounds; absent: client tools with the defaults. */
  tools?: ToolsConfig;
}

/** Why a session ended, from a small fixed set (metrics label it; `reason` says it in words). */
export type SessionEndCause =
  | 'client_ended'
  | 'client_gone'
  /** The agent ended the conversation (a phone call's hang-up). */
  | 'agent_ended'
  | 'client_too_slow'
  | 'client_flood'
  | 'idle_timeout'
  | 'max_duration'
  | 'transport_error'
  | 'shutdown'
  | 'start_timeout'
  | 'internal_error'
  | 'other';

/**
 * Observers (metrics, traces, logs) learn what happened without sitting in the audio path. They
 * must be quick and must not throw; the session does not guard them.
 */
export interface SessionObserver {
  onOpened?(sessionId: string): void;
  /** Audio of `durationMs` came in from the client or went out in a reply. */
  onAudio?(direction: 'in' | 'out', durationMs: number): void;
  /** A reply ended (completed, interrupted or failed), with everything measured on the way. */
  onTurn?(report: TurnReport): void;
  onAbandoned?(kind: 'llm' | 'tts'): void;
  /** A paused reply resumed: the speech that paused it was no interruption (interruption_mode pause). */
  onFalseInterruption?(): void;
  onError?(code: ErrorCode, message: string): void;
  /** A bug surfaced in this session's work (the session is closed with an `internal` error). */
  onInternalError?(error: unknown): void;
  onClosed?(reason: string, cause: SessionEndCause): void;
  /** The state worth keeping for a resume changed (a turn or reply ended, a piece was spoken, ...). */
  onCheckpoint?(): void;
}
