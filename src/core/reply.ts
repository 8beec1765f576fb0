/**
 * One reply, and the handle the session keeps of it. The run: the LLM's token stream is cut into
 * speakable pieces, each piece is synthesized while the LLM keeps streaming, and the audio goes
 * out as it comes. Interrupting aborts the LLM request and every TTS call; the reply then waits
 * for no provider longer than the cancel budget. The handle: the turn it answers (ids, the user's
 * words, the turn's moments), its item in the conversation, the barge-in that ended it and the
 * cause of its end. Replies are started by one owner (./replies.ts), early ones included.
 */
import { bytesFromPcm16, durationMs } from '../audio/pcm.js';
import { encodeAudio } from '../audio/codec.js';
import { StreamResampler } from '../audio/resampler.js';
import { ProviderError, type ChatMessage, type ChatModel, type SpeechSynthesizer, type ToolCall } from '../providers/types.js';
import { untilAborted } from './abortable.js';
import { AsyncQueue } from '../lib/async-queue.js';
import type { AudioFormat, ErrorCode, InterruptCause, ResponseStatus, ServerEvent } from './events.js';
import { PausableAudio } from './pausable-audio.js';
import { heardCut, type HistoryTrimmed, type SpokenPiece } from './history.js';
import { ReplayBuffer } from './reply-replay.js';
import { SpeakableSplitter } from './speakable-splitter.js';
import type { ToolCallRecord, ToolRounds } from './tool-rounds.js';
import type { EndCallRequest } from './end-call-tool.js';
import { FIRST_PIECE_MIN_CHARS } from './turn-config.js';
import type { TurnReport, TurnTimings } from './turn-metrics.js';
import type { ReplyTimings, TtsPieceTimings } from './reply-timings.js';

export type { ReplyTimings, TtsPieceTimings } from './reply-timings.js';

export interface ReplySettings {
  outputFormat: AudioFormat;
  voice: string;
  language: string;
  maxPieceChars: number;
  temperature?: number;
  maxTokens?: number;
  cancelBudgetMs: number;
  /** Sent audio kept until it was played, for a resume (./reply-replay.ts); 0 keeps none. */
  replayMaxBytes?: number;
}

export interface ReplyOutcome {
  status: ResponseStatus;
  heardText: string;
  /** The heard text is a proportional estimate (the voice reported no word timings for the piece cut). */
  heardTextEstimated: boolean;
  /** Where the heard text was cut on the audio timeline (all of it for a completed reply). */
  heardMs: number;
  audioSentMs: number;
}

export interface ReplyDeps {
  llm: ChatModel;
  tts: SpeechSynthesizer;
  emit: (event: ServerEvent) => void;
  /** A provider ignored its abort past the budget and was left behind. */
  onAbandoned: (kind: 'llm' | 'tts') => void;
  /** Reply audio went out (ms of audio), for observers. */
  onAudioSent?: (durationMs: number) => void;
  /** The reply's tool rounds, when tools are on offer. */
  tools?: ToolRounds;
}

const PLAYBACK_MARGIN_MS = 150;

/** Why a reply ended: its status, for an interrupted one who interrupted it, for a failed one the error. */
export interface ReplyEnd {
  status: ResponseStatus;
  cause?: InterruptCause;
  error?: { code: ErrorCode; message: string; retryable: boolean };
}

/** The turn a reply answers. */
export interface ReplyTurn {
  /** The user's turn (its item id too); empty for a reply the client asked for with no new turn. */
  id: string;
  /** What the user said (or typed). */
  text: string;
  /** Moments of the user's turn; `speculative` is set when the reply starts. */
  timings: TurnTimings;
}

export class Reply {
  /** Moments of the reply, written by this class alone (an early reply's held audio included). */
  readonly timings: ReplyTimings = {};
  /** Its assistant item in the conversation, once it is the session's current reply. */
  itemId = '';
  /** User speech that interrupted it. */
  bargeIn: TurnReport['bargeIn'];
  /** Set once, when it ended. */
  end: ReplyEnd | undefined;
  /** The oldest turns were left out of its LLM request to fit LLM_CONTEXT_TOKENS. */
  historyTrimmed: HistoryTrimmed | undefined;
  private readonly abort = new AbortController();
  private readonly pieces: SpokenPiece[] = [];
  private audioSentMs = 0;
  /**
   * When the audio sent so far ends playing (performance.now() ms), played back to back from each
   * chunk's arrival; a resume sets it again from the replay's start.
   */
  private playEndsAt: number | undefined;
  private playedMs: number | null = null;
  private playbackAdvanced: (() => void) | null = null;
  private status: ResponseStatus | null = null;
  private failure: ReplyEnd['error'];
  /** An early reply's first audio was ready here, before it was released. */
  private firstAudioReadyAt: number | undefined;
  private running: Promise<ReplyOutcome> | null = null;
  private readonly replay: ReplayBuffer;
  /** No client is connected (a resume may follow): the reply does not count as played meanwhile. */
  private paused = false;
  /** Its audio on the way out: user speech may pause it (interruption_mode pause). */
  private readonly out: PausableAudio;
  /** Times user speech paused it and it resumed. */
  falseInterruptions = 0;

  constructor(
    readonly id: string,
    /** The turn it answers: an early reply's is replaced by the due one when it is confirmed. */
    public turn: ReplyTurn,
    private readonly messages: ChatMessage[],
    private readonly settings: ReplySettings,
    private readonly deps: ReplyDeps,
  ) {
    this.replay = new ReplayBuffer(settings.replayMaxBytes ?? 0, settings.outputFormat.encoding, settings.outputFormat.sampleRateHz);
    const sampleBytes = settings.outputFormat.encoding === 'pcm16' ? 2 : 1;
    this.out = new PausableAudio((c) => this.deps.emit({ type: 'response_audio', responseId: this.id, data: c.data, offsetMs: Math.round(c.offsetMs) }), sampleBytes);
  }

  get turnId(): string {
    return this.turn.id;
  }

  /** The run, started on the first call: all audio played, interrupted, or failed. Never rejects. */
  run(): Promise<ReplyOutcome> {
    this.running ??= this.runToEnd();
    return this.running;
  }

  /** Synthesis of an early reply had its first audio ready at `at` (performance.now() ms), before release. */
  noteFirstAudioReady(at: number): void {
    this.firstAudioReadyAt ??= at;
  }

  /** Records how it ended (once) and returns it. */
  ended(outcome: ReplyOutcome, cause?: InterruptCause): ReplyEnd {
    this.end ??= { status: outcome.status, ...(outcome.status === 'interrupted' && cause ? { cause } : {}), ...(this.failure ? { error: this.failure } : {}) };
    return this.end;
  }

  private async runToEnd(): Promise<ReplyOutcome> {
    const pieces = new AsyncQueue<string>();
    // A TTS failure aborts the whole reply, the LLM request included.
    const speaking = this.speak(pieces).catch((error: unknown) => this.fail('tts_unavailable', error));
    try {
      await this.think(pieces);
    } catch (error) {
      this.fail('llm_unavailable', error);
    } finally {
      this.timings.llmDoneAt = performance.now();
      pieces.end();
    }
    await speaking;
    if (!this.status) await this.waitForPlayback();
    return this.outcome();
  }

  /** The tools it called, with their outcomes. */
  get toolCalls(): ToolCallRecord[] {
    return this.deps.tools?.records ?? [];
  }

  /** It called the built-in end_call (./end-call-tool.ts). */
  get endCall(): EndCallRequest | undefined {
    return this.deps.tools?.endCall;
  }

  /** The reply's TTS pieces on its audio timeline (what its text is cut by). */
  get spokenPieces(): readonly SpokenPiece[] {
    return this.pieces;
  }

  /** Ms of audio sent so far. */
  get audioMs(): number {
    return this.audioSentMs;
  }

  /**
   * Stops the reply now (barge-in or client interrupt). `heardMs`: the client says it played
   * exactly this much (a truncation), which replaces any playback report.
   */
  interrupt(heardMs?: number): ReplyOutcome {
    if (heardMs !== undefined) this.playedMs = Math.min(heardMs, this.audioSentMs);
    this.finish('interrupted');
    return this.outcome();
  }

  /** The client has played `playedMs` of this reply's audio. */
  onPlayback(playedMs: number): void {
    this.playedMs = Math.max(this.playedMs ?? 0, Math.min(playedMs, this.audioSentMs));
    this.replay.played(this.playedMs);
    this.out.played(this.playedMs);
    this.playbackAdvanced?.();
  }

  /** User speech: no more audio goes out (what the synthesizer makes waits) until resume or the end. */
  pauseForSpeech(): boolean {
    if (this.status || this.out.isPaused) return false;
    this.out.pause();
    this.deps.emit({ type: 'response_paused', responseId: this.id, audioSentMs: Math.round(this.audioSentMs) });
    return true;
  }

  /** It was no interruption: audio goes out again from the position the client last reported played. */
  unpause(): void {
    if (this.status || !this.out.isPaused) return;
    this.falseInterruptions++;
    this.out.resume((fromMs) => {
      // Audio goes out again from fromMs, back to back from now (what waited included).
      this.playEndsAt = performance.now() + (this.audioSentMs - fromMs);
      this.deps.emit({ type: 'response_unpaused', responseId: this.id, offsetMs: Math.round(fromMs) });
    });
    this.playbackAdvanced?.();
  }

  /** How much the client reported it played (null: no report yet). */
  get reportedPlayedMs(): number | null {
    return this.playedMs;
  }

  /** The client is gone for now: the reply is not played until `resumeFrom`. */
  pausePlayback(): void {
    this.paused = true;
    this.playbackAdvanced?.();
  }

  /**
   * A resumed client played up to `playedMs`: the events that play the reply again from there, and
   * the playback wait counts from now. Null when that audio is no longer held.
   */
  resumeFrom(playedMs: number): { earlierText: string; events: ServerEvent[] } | null {
    const from = Math.min(Math.max(playedMs, this.playedMs ?? 0), this.audioSentMs);
    const replay = this.replay.from(from, this.id, this.pieces);
    if (!replay) return null;
    this.playedMs = from;
    this.paused = false;
    // What was not played goes out again now, back to back (the playback wait counts from here).
    this.playEndsAt = performance.now() + (this.audioSentMs - from);
    this.playbackAdvanced?.();
    return replay;
  }

  private outcome(): ReplyOutcome {
    const heardMs = this.status === 'completed' ? this.audioSentMs : (this.playedMs ?? this.audioSentMs);
    const cut = this.status === 'completed' ? { text: heardCut(this.pieces, Infinity).text, estimated: false } : heardCut(this.pieces, heardMs);
    return { status: this.status ?? 'completed', heardText: cut.text, heardTextEstimated: cut.estimated, heardMs, audioSentMs: this.audioSentMs };
  }

  private finish(status: ResponseStatus): void {
    if (this.status) return;
    this.status = status;
    this.abort.abort();
  }

  private fail(code: ErrorCode, error: unknown): void {
    if (this.status) return;
    const message = error instanceof ProviderError ? error.message : `${code}: ${String(error)}`;
    this.failure = { code, message, retryable: error instanceof ProviderError && error.retryable };
    this.deps.emit({ type: 'error', code, message, sessionContinues: true });
    this.finish('failed');
  }

  /**
   * The LLM's reply, piece by piece into `pieces`. When it ends with tool calls, the tool rounds
   * (./tool-rounds.ts) run them and the LLM is asked again with their results, in the same reply;
   * what it said before a call is spoken as usual.
   */
  private async think(pieces: AsyncQueue<string>): Promise<void> {
    const signal = this.abort.signal;
    const messages = [...this.messages];
    const tools = this.deps.tools;
    this.timings.llmRequestAt = performance.now();
    for (;;) {
      const splitter = new SpeakableSplitter({ maxPieceChars: this.settings.maxPieceChars, firstPieceMinChars: FIRST_PIECE_MIN_CHARS });
      const opts = { temperature: this.settings.temperature, maxTokens: this.settings.maxTokens, ...tools?.llmOptions() };
      const outputs = this.deps.llm.stream(messages, opts, signal);
      const calls: ToolCall[] = [];
      let text = '';
      for await (const out of untilAborted(outputs, signal, this.settings.cancelBudgetMs, () => this.deps.onAbandoned('llm'))) {
        this.timings.llmFirstTokenAt ??= performance.now();
        if (out.type === 'tool_call') {
          calls.push(out.call);
          continue;
        }
        text += out.text;
        for (const piece of splitter.push(out.text)) this.queuePiece(pieces, piece);
      }
      if (signal.aborted) return;
      for (const piece of splitter.flush()) this.queuePiece(pieces, piece);
      if (calls.length === 0 || !tools) return;
      const io = { speak: (filler: string) => this.queuePiece(pieces, filler), audioEndsAt: () => this.playEndsAt ?? 0, signal };
      const next = await tools.run(calls, text, io);
      if (!next) return;
      messages.push(...next);
    }
  }

  private queuePiece(pieces: AsyncQueue<string>, piece: string): void {
    this.timings.llmFirstPieceAt ??= performance.now();
    pieces.push(piece);
  }

  private async speak(pieces: AsyncQueue<string>): Promise<void> {
    const signal = this.abort.signal;
    const { outputFormat, voice, language, cancelBudgetMs } = this.settings;
    for await (const text of pieces) {
      if (signal.aborted) return;
      const piece: SpokenPiece = { text, startMs: this.audioSentMs, durationMs: 0, complete: false };
      const timing: TtsPieceTimings = { text, requestAt: performance.now(), audioMs: 0 };
      (this.timings.ttsPieces ??= []).push(timing);
      this.timings.ttsFirstRequestAt ??= timing.requestAt;
      const audio = this.deps.tts.stream(text, { voice, language, sampleRateHz: outputFormat.sampleRateHz }, signal);
      // Providers should answer at the rate asked for; one that cannot is resampled here.
      let resampler: StreamResampler | null = null;
      try {
        for await (const chunk of untilAborted(audio, signal, cancelBudgetMs, () => this.deps.onAbandoned('tts'))) {
          // An early reply's audio was ready before it was released: the backend's latency ended then.
          const now = performance.now();
          timing.firstAudioAt ??= this.timings.ttsFirstAudioAt === undefined ? Math.min(now, this.firstAudioReadyAt ?? now) : now;
          this.timings.ttsFirstAudioAt ??= timing.firstAudioAt;
          if (chunk.words) (piece.words ??= []).push(...chunk.words);
          if (chunk.sampleRateHz !== outputFormat.sampleRateHz) {
            resampler ??= await StreamResampler.create(chunk.sampleRateHz, outputFormat.sampleRateHz);
          }
          this.sendAudio(resampler ? resampler.process(chunk.pcm) : chunk.pcm, piece);
        }
        if (resampler && !signal.aborted) this.sendAudio(resampler.flush(), piece);
      } finally {
        resampler?.destroy();
        timing.doneAt = performance.now();
        timing.audioMs = piece.durationMs;
      }
      piece.complete = !signal.aborted;
    }
  }

  /** Sends audio of `piece`; its text goes out with its first audio, so captions follow speech. */
  private sendAudio(pcm: Int16Array, piece: SpokenPiece): void {
    if (this.abort.signal.aborted || pcm.length === 0) return;
    if (piece.durationMs === 0) {
      this.pieces.push(piece);
      this.deps.emit({ type: 'response_text', responseId: this.id, delta: this.pieces.length > 1 ? ` ${piece.text}` : piece.text });
    }
    const { encoding, sampleRateHz } = this.settings.outputFormat;
    const data = encoding === 'pcm16' ? bytesFromPcm16(pcm) : encodeAudio(pcm, encoding);
    const now = performance.now();
    this.timings.firstAudioSentAt ??= now;
    const chunkMs = durationMs(pcm.length, sampleRateHz);
    this.playEndsAt = Math.max(this.playEndsAt ?? now, now) + chunkMs;
    this.out.push({ data, offsetMs: this.audioSentMs, durationMs: chunkMs });
    this.replay.add(this.audioSentMs, chunkMs, data, this.pieces.length - 1);
    piece.durationMs += chunkMs;
    this.audioSentMs += chunkMs;
    this.deps.onAudioSent?.(chunkMs);
  }

  /**
   * Audio goes out faster than real time, so the reply is still "speaking" until the client has
   * played it: until a playback report reaches the end, or its audio has had time to play, back to
   * back from each chunk's arrival (clients that send no reports; a pause for tools counts).
   */
  private async waitForPlayback(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted && this.playEndsAt !== undefined && (this.playedMs ?? 0) < this.audioSentMs) {
      // Paused (no client connected, or user speech in pause mode): wait for the resume, or the end.
      const remainingMs = this.paused || this.out.isPaused ? 2 ** 31 - 1 : this.playEndsAt + PLAYBACK_MARGIN_MS - performance.now();
      if (remainingMs <= 0) break;
      // One wait per playback report: it must end whole (timer and abort listener), not be left
      // behind as a race's loser, since a long reply gets many reports.
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', wake);
          this.playbackAdvanced = null;
          resolve();
        };
        const timer = setTimeout(wake, remainingMs);
        signal.addEventListener('abort', wake, { once: true });
        this.playbackAdvanced = wake;
      });
    }
    this.finish('completed');
  }
}
