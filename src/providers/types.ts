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
  /** Sample rate it wants; the session resamples input to it. */
  readonly sampleRateHz: number;
  stream(opts: AsrOptions, signal: AbortSignal): AsrStream;
  /**
   * False for a language the recognizer cannot transcribe at all: the session then says so once
   * instead of opening a stream that fails on every audio chunk. Left out: every language is tried.
   */
  supportsLanguage?(language: string): boolean;
}

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

export interface LlmOptions {
  temperature?: number;
  maxTokens?: number;
}

/**
 * Streams reply text only: reasoning (`reasoning_content`, `<think>`) is the provider's or the
 * splitter's to drop, never spoken. A failure throws a ProviderError.
 */
export interface ChatModel {
  stream(messages: ChatMessage[], opts: LlmOptions, signal: AbortSignal): AsyncIterable<string>;
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
