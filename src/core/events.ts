/**
 * The transport-independent event model (docs/architecture.md §3). Transports map their wire format onto these
 * types; the session engine sees nothing else.
 */
import type { AudioEncoding } from '../audio/codec.js';
import type { ToolChoice } from '../providers/types.js';

export type { ToolChoice };

export type EndOfTurnSource = 'asr' | 'vad' | 'commit' | 'smart_turn';
/** What user speech does while the agent speaks: interrupt at once, or pause the reply and decide. */
export type InterruptionMode = 'immediate' | 'pause';

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
  /** The end of the user's turn starts a reply; when false, replies wait for a `respond` event. */
  autoRespond: boolean;
  /** Speech probability at or above which VAD hears speech in this session. */
  vadThreshold: number;
  /** `speech_started` is reported this much earlier than the detected onset, so it covers the onset. */
  prefixPaddingMs: number;
  /** With smart_turn: silence that ends the turn whatever the model says. */
  endOfTurnMaxSilenceMs: number;
  interruptionMode: InterruptionMode;
  /** With pause: words (not all backchannel) that make the speech an interruption. */
  bargeInMinWords: number;
  /** With pause: a paused reply resumes when no such words came this long after the speech. */
  falseInterruptionTimeoutMs: number;
}

/** A tool the client runs itself when the LLM calls it (answered with `tool_result`). */
export interface ToolDeclaration {
  /** 1 to 64 letters, digits, _ or - (what LLM servers accept). */
  name: string;
  description: string;
  /** A JSON Schema object. */
  parameters: Record<string, unknown>;
  /** How long a call waits for its result (ms); unset: the server's TOOL_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** Settings a client may choose per session; the server fills the rest from its defaults. */
export interface SessionSettings {
  inputFormat: AudioFormat;
  outputFormat: AudioFormat;
  language: string;
  voice: string;
  instructions: string;
  turn: TurnSettings;
  /** The client's own tools (the gateway's MCP tools are offered beside them). */
  tools: ToolDeclaration[];
  toolChoice: ToolChoice;
  /** Say a filler phrase while a client tool runs long (the client may fill the wait itself). */
  toolFiller: boolean;
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
  /** Replaces the client's tools (an empty list removes them). */
  tools?: ToolDeclaration[];
  toolChoice?: ToolChoice;
  toolFiller?: boolean;
}

export type ItemRole = 'user' | 'assistant' | 'system' | 'tool';

/**
 * A tool call the assistant made (`text` is empty) or a tool's result (`text` is the output), as
 * item-aware protocols show them (Realtime `function_call` / `function_call_output` items).
 */
export type ToolItemPart = { kind: 'call'; callId: string; name: string; arguments: string } | { kind: 'output'; callId: string };

/** One message of the conversation, with the id an item-aware client uses to edit it. */
export interface ConversationItem {
  id: string;
  role: ItemRole;
  /** What the LLM sees: the user's words, or what the user heard of a reply. */
  text: string;
  /** audio: a spoken turn (text is its transcript) or a spoken reply; text: typed or created as text. */
  origin: 'audio' | 'text';
  /** Set on a tool call (role assistant) or a tool's result (role tool); absent on a message. */
  tool?: ToolItemPart;
}

/** An item a client adds; without an id the session names it. tool: a tool call it adds (role assistant). */
export interface NewItem {
  id?: string;
  role: ItemRole;
  text: string;
  tool?: Extract<ToolItemPart, { kind: 'call' }>;
}

export type ClientEvent = {
  /** The transport's tag for this event: the error or acknowledgement it causes carries it back. */
  ref?: string;
} & (
  | {
      type: 'start';
      settings: SettingsPatch;
      metadata: Record<string, string>;
      /** The transport wants item events (item_added, ...): its protocol has conversation items. */
      itemEvents?: boolean;
      /**
       * A reply ends at the client's tool calls, and the client asks for the next one (`respond`)
       * after adding their results, as the OpenAI Realtime protocol does; otherwise the reply
       * waits for the results and goes on by itself.
       */
      toolCallsEndReply?: boolean;
      /**
       * The transport can hang up the call (a phone call): the built-in end_call tool is offered,
       * and a reply that calls it ends with response_done.endsCall (./end-call-tool.ts).
       */
      endCallTool?: boolean;
      /** Continue the session of this token instead (src/resume); `settings` is then ignored. */
      resumeToken?: string;
      /** With resumeToken: how much of the reply then playing the client had played. */
      played?: { responseId: string; playedMs: number };
    }
  | { type: 'audio'; data: Uint8Array }
  | { type: 'text'; text: string }
  | { type: 'commit' }
  | { type: 'interrupt' }
  | { type: 'playback'; responseId: string; playedMs: number }
  | { type: 'update'; settings: SettingsPatch }
  /**
   * The result of a tool call (`tool_call`). itemId / after: item-aware clients name the output
   * item and where it goes (Realtime function_call_output).
   */
  | { type: 'tool_result'; callId: string; output: string; isError?: boolean; itemId?: string; after?: string | null }
  // Item-level events (see docs/architecture.md, "Conversation items").
  /** Start a reply now from the conversation as it is (instructions replace the session's for it). */
  | { type: 'respond'; instructions?: string }
  /** Stop the current reply; unlike `interrupt`, an error when there is none (or it is not responseId). */
  | { type: 'cancel'; responseId?: string }
  /** Add an item without replying; after: the item it follows (null: first; absent: last). */
  | { type: 'add_item'; item: NewItem; after?: string | null }
  /** The user heard `audioEndMs` of an assistant item's audio: its text is cut to that. */
  | { type: 'truncate'; itemId: string; audioEndMs: number }
  | { type: 'delete_item'; itemId: string }
  | { type: 'get_item'; itemId: string }
  /** Drop the user's audio since the last end of turn. */
  | { type: 'clear_input' }
  /**
   * Speak `text` as a reply, word for word, without the LLM (a phone call's greeting): it goes
   * through TTS and into the history as the assistant's, cut to what was heard.
   */
  | { type: 'say'; text: string }
);

/**
 * Client events the core always answers exactly once, when the session asked for item events: with
 * their answer (settings_updated, item_added, item_truncated, item_deleted, item_retrieved,
 * input_cleared) or with an error, either carrying the event's `ref`. A transport may wait for
 * that answer; other events are answered only when they fail.
 */
export const ANSWERED_CLIENT_EVENTS: ReadonlySet<ClientEvent['type']> = new Set(['update', 'add_item', 'truncate', 'delete_item', 'get_item', 'clear_input', 'tool_result']);

export type TranscriptStability = 'partial' | 'stable' | 'final';
export type ResponseStatus = 'completed' | 'interrupted' | 'failed';
export type SpeculativeOutcome = 'none' | 'hit' | 'miss';

/** How a tool call ended. */
export type ToolCallOutcome = 'ok' | 'error' | 'unavailable' | 'timeout' | 'cancelled' | 'invalid_arguments';
/** Why a pending tool call was cancelled: the reply's interruption, or its timeout. */
export type ToolCancelReason = InterruptCause | 'timeout';

export type ErrorCode =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'asr_unavailable'
  | 'llm_unavailable'
  | 'tts_unavailable'
  | 'internal'
  | 'unavailable'
  /** A resume token was not accepted (forged, expired, already used, another subject). */
  | 'resume_refused'
  /** Draining with the session saved: reconnect with the resume token to continue. */
  | 'reconnect_to_resume';

/** Every latency of one turn, in ms (docs/architecture.md §6). Undefined means not measured. */
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

/** Why a reply was interrupted: user speech, the client (interrupt, cancel, truncate), or a newer turn. */
export type InterruptCause = 'barge_in' | 'client' | 'superseded';

/**
 * A finer reason for some errors, for protocols that name them (the OpenAI Realtime dialect has a
 * code for each); the ErrorCode stays the stable, coarse one.
 */
export type ErrorReason =
  | 'input_empty' // commit with (almost) no audio since the last end of turn
  | 'nothing_heard' // commit of audio in which no words were recognized
  | 'response_in_progress' // respond while a reply runs
  | 'no_response' // cancel with no reply running (or another one)
  | 'item_not_found'
  | 'item_exists'
  | 'not_truncatable' // not an assistant item with audio
  | 'audio_end_out_of_range';

export type ServerEvent =
  /**
   * resumed: this continues an earlier session (its id, history and settings). resumeToken and
   * resumeWindowMs are added on the way out by src/resume (the core issues no tokens).
   */
  | { type: 'ready'; sessionId: string; settings: SessionSettings; resumed?: boolean; resumeToken?: string; resumeWindowMs?: number }
  /** After a resume: the reply goes on from playedMs; its text from the piece then playing is sent again. */
  | { type: 'response_resumed'; responseId: string; turnId: string; itemId: string; playedMs: number; earlierText: string }
  /** turnId: the turn (and user item) this speech belongs to. */
  | { type: 'speech_started'; audioOffsetMs: number; turnId: string }
  | { type: 'speech_stopped'; audioOffsetMs: number; turnId: string }
  | { type: 'transcript'; turnId: string; stability: TranscriptStability; text: string }
  | { type: 'response_started'; responseId: string; turnId: string }
  | { type: 'response_text'; responseId: string; delta: string }
  | { type: 'response_audio'; responseId: string; data: Uint8Array; offsetMs: number }
  | {
      type: 'response_done';
      responseId: string;
      status: ResponseStatus;
      heardText: string;
      audioSentMs: number;
      cause?: InterruptCause;
      /** heardText is a proportional estimate (no word timings for the piece it was cut in). */
      heardTextEstimated?: boolean;
      /** Where heardText was cut on the reply's audio timeline, ms. */
      heardMs?: number;
      /** Times user speech paused this reply and it resumed. */
      falseInterruptions?: number;
      /**
       * The reply called the built-in end_call (sessions started with endCallTool) and was heard
       * to its end: the transport hangs up now. Absent when the caller interrupted the goodbye.
       */
      endsCall?: { reason: string };
    }
  /** User speech while the agent speaks (interruption_mode pause): stop playing, keep the queue. */
  | { type: 'response_paused'; responseId: string; audioSentMs: number }
  /** It was no interruption: audio from `offsetMs` (the played position) is sent again, then the rest. */
  | { type: 'response_unpaused'; responseId: string; offsetMs: number }
  | { type: 'turn_metrics'; metrics: TurnMetrics }
  /** Run the client's tool `name` and answer with tool_result. itemId: its item (item-aware clients). */
  | { type: 'tool_call'; responseId: string; callId: string; name: string; arguments: string; itemId: string; previousItemId: string | null }
  /** A call the client was asked to run is not wanted any more; resultIgnored: answers a late tool_result. */
  | { type: 'tool_call_cancelled'; responseId: string; callId: string; reason: ToolCancelReason; resultIgnored?: boolean; ref?: string }
  /**
   * A tool the gateway runs itself started (no outcome yet) or finished. arguments / output only
   * with TOOL_ACTIVITY_DETAIL.
   */
  | {
      type: 'tool_activity';
      responseId: string;
      callId: string;
      name: string;
      server: string;
      outcome?: ToolCallOutcome;
      durationMs?: number;
      arguments?: string;
      output?: string;
    }
  | { type: 'error'; code: ErrorCode; message: string; sessionContinues: boolean; reason?: ErrorReason; ref?: string }
  // Item events: sent only to sessions started with itemEvents. `ref` is that of the client event
  // they answer. responseId: the reply an assistant item belongs to.
  | { type: 'item_added'; item: ConversationItem; previousItemId: string | null; responseId?: string; ref?: string }
  | { type: 'item_retrieved'; item: ConversationItem; ref?: string }
  | { type: 'item_truncated'; itemId: string; audioEndMs: number; text: string; ref?: string }
  | { type: 'item_deleted'; itemId: string; ref?: string }
  | { type: 'input_cleared'; ref?: string }
  | { type: 'settings_updated'; settings: SessionSettings; ref?: string };

/** An error with a stable code for programs and a sentence for people. */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly reason?: ErrorReason,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}
