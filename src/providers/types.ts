/**
 * Provider interfaces: one per kind (VAD, ASR, LLM, TTS). Each is small, streams through async
 * iterables and takes an AbortSignal wherever it can wait. Vendor quirks stay in the vendor's file.
 * Internal audio is mono signed 16-bit PCM in an Int16Array.
 *
 * ## The contract every provider keeps
 *
 * **Abort.** Every call that can wait takes an AbortSignal. Once it is aborted the provider stops
 * its work (closes its stream, cancels its request) and ends its iterator, by returning or by
 * throwing; it sends nothing more. It has `CANCEL_BUDGET_MS` (core/turn-config.ts) to do so. The
 * core never awaits a provider past that budget (`untilAborted` in core/abortable.ts): the reply
 * goes on without it, the provider is reported abandoned (`SessionObserver.onAbandoned`, the
 * `voice_gateway_provider_abandoned_total` metric) and whatever it still yields is dropped. A
 * provider that ignores aborts therefore costs its own resources, never a session's turn-taking.
 *
 * **Errors.** A failure is a `ProviderError` (never a bare string or a vendor SDK's error) whose
 * message a person can act on: what failed, where, and which setting to check. `retryable` says
 * whether the same request may work later unchanged (the backend was unreachable, overloaded,
 * timed out, or dropped the stream) or not (bad settings, unknown model or voice, refused
 * credentials). `retryAfterS` carries the backend's own wait (HTTP Retry-After).
 *
 * **Who retries.** The core never retries a turn: a failed reply ends as `failed` with an `error`
 * event the session survives, and the client (or the user, by speaking again) decides. A provider
 * may retry inside one call only where no output is lost or repeated and within a bound that is a
 * setting (Riva ASR reopens a dropped stream with the audio since the last final:
 * `RIVA_ASR_RECONNECT_RETRIES`). The core honours `retryAfterS` for the LLM: no request to it
 * before the wait is over (core/llm-retry-after.ts).
 *
 * ## Adding a vendor
 *
 * One file (or folder) that implements the kind's interface here, and one row in `registry.ts`
 * (its name, a one-line summary, how to build it and, for a backend over the network, its checks
 * for `voice-gateway doctor`). The `*_PROVIDER` setting accepts the new name from then on; its
 * own settings go in config/schema.ts. The row's `create` imports the vendor's module lazily, so
 * users of other vendors never load it.
 */

/** Voice activity detection: fixed-size frames in, speech probability out. */
export interface VoiceActivityDetector {
  /** Sample rate the model is made for; the session resamples input to it unless `frameSamplesAt` takes the input's rate. */
  readonly sampleRateHz: number;
  /** Samples per frame the model expects at `sampleRateHz`. */
  readonly frameSamples: number;
  /**
   * Samples per frame at another rate the model takes as it is (Silero: 256 at 8 kHz), or
   * undefined for a rate it cannot: phone audio then skips a resampler per call. Left out: only
   * `sampleRateHz`.
   */
  frameSamplesAt?(rateHz: number): number | undefined;
  /** A per-session stream with its own model state, for audio at `rateHz` (default `sampleRateHz`). */
  createStream(rateHz?: number): VadStream;
}

export interface VadStream {
  /** Probability (0..1) that the frame holds speech. The frame has exactly the frame length of the stream's rate. */
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

/** Where the session's VAD found speech to start or end, `msAgo` ms before the end of the audio written so far. */
export type SpeechEdge = { type: 'start' | 'end'; msAgo: number };

export interface AsrStream extends AsyncIterable<AsrResult> {
  write(pcm: Int16Array): void;
  /** No more audio: the recognizer flushes its last final and the iterator ends. */
  end(): void;
  /**
   * Speech edges from the session's VAD, for recognizers that cannot find utterances themselves and
   * transcribe one at a time (OpenAI-compatible servers, Wyoming). Streaming recognizers leave it out.
   */
  speech?(edge: SpeechEdge): void;
  /**
   * True while words are on their way: audio of an utterance was taken and its final has not come.
   * An end of turn then ends the stream and waits for them, as it does for a pending partial.
   */
  readonly awaitingFinal?: boolean;
}

export interface SpeechRecognizer {
  /** Sample rate it wants; the session resamples input to it unless `takesRate` says otherwise. */
  readonly sampleRateHz: number;
  /**
   * True for an input rate the engine takes as it is (Riva resamples on its server): 8 kHz phone
   * audio then goes out without a resampler per call. Left out: only `sampleRateHz`.
   */
  takesRate?(rateHz: number): boolean;
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

/**
 * A word of the text given to `stream` and when its audio starts, for engines that report it
 * (espeak-ng's word events, the simulated voice): the heard text of an interrupted reply is then
 * cut at the last word whose audio was played, instead of estimated in proportion to time.
 */
export interface WordTiming {
  /**
   * Where the word is in the text (UTF-16 code units, as JavaScript strings count). Engines are not
   * always exact (espeak is sometimes off by a few characters after accented letters); the core
   * places each timing on the text's own words, in order.
   */
  textOffset: number;
  textLength: number;
  /** Where its audio starts, in ms from the start of this `stream` call's audio. */
  startMs: number;
}

/**
 * Audio, and the words whose audio starts in this chunk when the engine reports them. An engine
 * that reports word timings reports every word of the text, in order (its first with its first
 * audio); one that does not leaves `words` out, and the core then estimates.
 */
export type TtsChunk = { pcm: Int16Array; sampleRateHz: number; words?: WordTiming[] };

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

/** What a semantic end-of-turn model (Smart Turn) says about the user's turn so far. */
export interface TurnEndPrediction {
  /** 0..1: how likely the user has finished their turn. */
  probability: number;
  /** Time the model's thread spent on it (features and the model run), ms. */
  computeMs: number;
}

/**
 * A semantic end-of-turn model: the user's audio in, whether the turn sounds finished out. One
 * model serves every session; each session keeps its own turn's audio and sends it with each
 * question (the model has no state between questions).
 */
export interface TurnEndModel {
  /** Rate of the audio it takes. */
  readonly sampleRateHz: number;
  /** The most audio it looks at (the end of the turn); a session need keep no more. */
  readonly maxAudioMs: number;
  /** `pcm`: the turn's audio so far, mono, newest last. Rejects when `signal` aborts first. */
  predict(pcm: Int16Array, signal: AbortSignal): Promise<TurnEndPrediction>;
}

export interface Providers {
  vad: VoiceActivityDetector;
  asr: SpeechRecognizer;
  llm: ChatModel;
  tts: SpeechSynthesizer;
  /** The semantic end-of-turn model, when the server loaded one (end_of_turn_source smart_turn needs it). */
  turn?: TurnEndModel;
}

/** The kinds of the vendor table (registry.ts): one chosen vendor each. */
export type ProviderKind = 'asr' | 'llm' | 'tts' | 'vad';
/** Who failed: a vendor kind, or the end-of-turn model (one for the process, not a vendor choice). */
export type ProviderErrorKind = ProviderKind | 'turn';

export interface ProviderErrorOptions {
  /** The same request may work later unchanged (default false: settings or input must change first). */
  retryable?: boolean;
  /** Seconds the backend asked us to wait (HTTP Retry-After), if any; implies retryable. */
  retryAfterS?: number;
}

/** A backend failure with a message a person can act on (see "Errors" above). */
export class ProviderError extends Error {
  /** Trying the same again later may work (the backend was down, busy or slow), see above. */
  readonly retryable: boolean;
  /** Seconds the backend asked us to wait (HTTP Retry-After), if any. */
  readonly retryAfterS: number | undefined;

  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    options: ProviderErrorOptions = {},
  ) {
    super(message);
    this.name = 'ProviderError';
    this.retryAfterS = options.retryAfterS;
    this.retryable = options.retryable ?? options.retryAfterS !== undefined;
  }
}
