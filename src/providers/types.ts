/**
 * Provider interfaces: one per kind (VAD, ASR, LLM, TTS). Each is small, streams through async
 * iterables and takes an AbortSignal wherever it can wait. Vendor quirks stay in the vendor's file.
 * Internal audio is mono signed 16-bit PCM in an Int16Array.
 */

/** Voice activity detection: fixed-size frames in, speech probability out. */
export interface VoiceActivityDetector {
  /** Sample rate the model expects; the session resamples input to it. */
  readonly sampleRateHz: number;
  /** Samples per frame the model expects. */
  readonly frameSamples: number;
  /** A per-session stream with its own model state. */
  createStream(): VadStream;
}

export interface VadStream {
  /** Probability (0..1) that the frame holds speech. The frame has exactly `frameSamples` samples. */
  speechProbability(frame: Int16Array): Promise<number>;
  close(): void;
}

export interface AsrOptions {
  /** BCP-47 language, e.g. "en-US". */
  language: string;
  /** Sample rate of the PCM written to the stream. */
  sampleRateHz: number;
}

/**
 * partial: may change; stable: provisional end of utterance (e.g. Riva's stability 1.0 interim);
 * final: the utterance is done and the recognizer has reset.
 */
export type AsrResult = { kind: 'partial' | 'stable' | 'final'; text: string };

export interface AsrStream extends AsyncIterable<AsrResult> {
  write(pcm: Int16Array): void;
  /** No more audio: the recognizer flushes its last final and the iterator ends. */
  end(): void;
}

export interface SpeechRecognizer {
  /** Sample rate it wants; the session resamples input to it. */
  readonly sampleRateHz: number;
  stream(opts: AsrOptions, signal: AbortSignal): AsrStream;
  /**
   * False for a language the recognizer cannot transcribe at all: the session then says so once
   * instead of opening a stream that fails on every audio chunk. Left out: every language is tried.
   */
  supportsLanguage?(language: string): boolean;
}

/** A call the model made, in the Chat Completions shape: `arguments` is the JSON text it wrote. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/**
 * The conversation in the Chat Completions shape (OpenAI, NIM, vLLM send and take exactly this):
 * an assistant message may carry the tool calls it made (its `content` is then what it said
 * before them, possibly empty), and each call's result follows as one `tool` message with the
 * call's id. A history never holds a call without its result, nor a result without its call.
 */
export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** Tool names every LLM server we speak to accepts (OpenAI's rule). */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A tool the model may call: its name, what it does, and its parameters as a JSON Schema object. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** Whether the model may (auto), must (required, or this tool by name) or must not (none) call tools. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface LlmOptions {
  temperature?: number;
  maxTokens?: number;
  /** Tools the model may call this request (none: a plain chat). */
  tools?: readonly ToolSpec[];
  toolChoice?: ToolChoice;
}

/** What a model streams: text to speak, or a call it wants made (whole: name and all arguments). */
export type LlmOutput = { type: 'text'; text: string } | { type: 'tool_call'; call: ToolCall };

/**
 * Streams reply text and tool calls. Text is only what is to be spoken: reasoning
 * (`reasoning_content`, `<think>`) is the provider's or the splitter's to drop. A tool call is
 * yielded once it is complete (the model's whole arguments text, even when it is not valid JSON:
 * the core answers that, not the provider); text before a call is yielded before it. The provider
 * never runs a tool: the stream ends after the calls, and the core sends the results in the next
 * request. A failure throws a ProviderError.
 */
export interface ChatModel {
  stream(messages: ChatMessage[], opts: LlmOptions, signal: AbortSignal): AsyncIterable<LlmOutput>;
}

/** A tool the gateway runs itself (from an MCP server), with where it comes from. */
export interface ServerTool extends ToolSpec {
  /** The name of the server that serves it (MCP_SERVERS), for logs, metrics and captions. */
  server: string;
  /** Its own time limit (ms), when its server's settings give one. */
  timeoutMs?: number;
}

/**
 * What a tool call returned. `error`: the tool ran and reported a failure (MCP `isError`);
 * `unavailable`: it could not be reached or answered with a protocol error. Either way `output`
 * says what happened in words the model can act on.
 */
export type ToolOutcome = 'ok' | 'error' | 'unavailable';
export interface ToolCallResult {
  output: string;
  outcome: ToolOutcome;
}

/**
 * The tools the gateway serves from its own backends (MCP servers). `tools()` is what is on offer
 * now (lists refresh in the background). `call` never throws for a tool's failure (that is a
 * result the model is told); when `signal` aborts it gives up at once and the backend is told
 * (MCP `notifications/cancelled`), and the promise rejects with the signal's reason.
 */
export interface ToolBackend {
  tools(): readonly ServerTool[];
  call(tool: ServerTool, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolCallResult>;
}

export interface TtsOptions {
  voice: string;
  language: string;
  /** Sample rate of the audio wanted; the provider may return another (see TtsChunk). */
  sampleRateHz: number;
}

export type TtsChunk = { pcm: Int16Array; sampleRateHz: number };

/** A voice a session may choose (`TtsOptions.voice`). */
export interface VoiceInfo {
  /** The name to pass as `voice`. */
  name: string;
  /** Languages it speaks (BCP-47 or the engine's codes, e.g. "en-US", "en-us"). */
  languages: string[];
}

export interface SpeechSynthesizer {
  stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncIterable<TtsChunk>;
  /** The voices it offers, where the engine can list them. */
  listVoices?(): Promise<VoiceInfo[]>;
}

export interface Providers {
  vad: VoiceActivityDetector;
  asr: SpeechRecognizer;
  llm: ChatModel;
  tts: SpeechSynthesizer;
}

export type ProviderKind = 'asr' | 'llm' | 'tts' | 'vad';

/** A backend failure with a message a person can act on. */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderKind,
    message: string,
    /** Seconds the backend asked us to wait (HTTP Retry-After), if any. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
