/**
 * One voice conversation. It takes client events, runs VAD and ASR on the user's audio, decides
 * when the user's turn ended and when the user interrupts, runs replies (./response.ts) and keeps
 * the history of what was heard. It knows no wire format and no vendor.
 *
 * Client events are processed one at a time in arrival order (audio order matters); replies and
 * the recognizer's results run beside that loop, so a slow backend never blocks listening.
 *
 * Why this file is long (~700 lines): it is where turn-taking decisions meet, and each handler
 * needs the session's state. The parts that stand alone live beside it: the state table
 * (turn-state.ts), VAD framing (voice-activity.ts), replies (response.ts), speculative start
 * (speculation.ts), history (history.ts), metrics (turn-metrics.ts). Next seam to take out: the
 * recognizer stream handling (the "recognition" section).
 */
import { randomUUID } from 'node:crypto';
import { decodeAudio } from '../audio/codec.js';
import { AudioFormatError, durationMs } from '../audio/pcm.js';
import { StreamResampler } from '../audio/resampler.js';
import type { AsrResult, AsrStream, ChatMessage, Providers, SpeechSynthesizer } from '../providers/types.js';
import { settlesWithin } from './abortable.js';
import { AsyncQueue } from '../lib/async-queue.js';
import {
  GatewayError,
  type ClientEvent,
  type ConversationItem,
  type ErrorCode,
  type InterruptCause,
  type NewItem,
  type ServerEvent,
  type SessionSettings,
} from './events.js';
import { checkAudioEnd, ConversationHistory } from './history.js';
import { RetryAfterGate } from './llm-retry-after.js';
import { Response } from './response.js';
import { applySettings } from './settings.js';
import { SessionTools, type ToolsConfig } from './session-tools.js';
import { Speculation, Speculator, type HoldGate } from './speculation.js';
import { turnMetrics, type TurnReport, type TurnTimings } from './turn-metrics.js';
import { agentHasFloor, nextState, type TurnEvent, type TurnState } from './turn-state.js';
import type { VadSegmenterSettings } from './vad-segmenter.js';
import { VoiceActivity } from './voice-activity.js';

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
  outboundQueueMaxBytes: number;
  /** A stable interim transcript starts the reply early; the final confirms or restarts it. */
  speculativeStart?: boolean;
  /** Tools: the gateway's own (MCP), rounds, fillers and bounds. */
  tools?: ToolsConfig;
}

/** Tools when the configuration gives none: no server tools, and the settings' defaults. */
const NO_TOOLS: ToolsConfig = {
  rounds: { maxRounds: 4, timeoutMs: 10000, fillerAfterMs: 1500, argumentRetries: 2, resultMaxBytes: 16384, activityDetail: false },
  fillerPhrases: {},
  declarationsMaxBytes: 65536,
};

/** Why a session ended, from a small fixed set (metrics label it; `reason` says it in words). */
export type SessionEndCause =
  | 'client_ended'
  | 'client_gone'
  | 'client_too_slow'
  | 'client_flood'
  | 'idle_timeout'
  | 'max_duration'
  | 'transport_error'
  | 'shutdown'
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
  onError?(code: ErrorCode, message: string): void;
  onClosed?(reason: string, cause: SessionEndCause): void;
}

interface PendingTurn {
  id: string;
  finals: string[];
  partial: string;
  timings: TurnTimings;
}

const EVENT_OVERHEAD_BYTES = 64;
/** A commit needs this much audio since the last end of turn (as OpenAI's Realtime API asks). */
const MIN_COMMIT_AUDIO_MS = 100;

export class Session {
  readonly id = `sess_${randomUUID().slice(0, 12)}`;
  /** Server events for the transport to send, bounded in bytes. */
  readonly events: AsyncQueue<ServerEvent>;

  private settings: SessionSettings;
  private started = false;
  private closed = false;
  private closedBecause: string | undefined;
  private closedCause: SessionEndCause | undefined;
  private state: TurnState = 'listening';
  private readonly history = new ConversationHistory();
  private readonly inbound: AsyncQueue<ClientEvent>;
  private readonly lifetime = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  /** Made at `start`, when the input format is known. */
  private voice: VoiceActivity | null = null;
  private asrResampler: StreamResampler | null = null;
  /** The recognizer cannot transcribe the session's language (see checkAsrLanguage). */
  private asrLanguageUnsupported = false;
  private inputOffsetMs = 0;

  private asr: AsrStream | null = null;
  private asrDone: Promise<void> = Promise.resolve();
  private flushing: { stream: AsrStream; turn: PendingTurn } | null = null;
  private turnCount = 0;
  private pendingTurn: PendingTurn | null = null;
  private response: { run: Response; itemId: string; timings: TurnTimings; userText: string; bargeIn?: TurnReport['bargeIn'] } | null = null;
  private responseCount = 0;
  private itemCount = 0;
  /** The transport asked for item events (start.itemEvents). */
  private itemEvents = false;
  /** Input audio (ms) since the last end of turn or clear: a commit needs some. */
  private uncommittedMs = 0;
  /** The last user turn that got no reply (autoRespond off), for the next `respond`. */
  private unanswered: { id: string; text: string; timings: TurnTimings } | null = null;
  /** When the latest stretch of user speech started (performance.now() ms). */
  private speechStartAt: number | undefined;
  /** The turn the latest stretch of user speech belongs to. */
  private speechTurnId = '';
  /** The last interrupted reply, so a late playback report can still correct the history. */
  private lastInterrupted: { id: string; run: Response; itemId: string } | null = null;
  /** The early reply of the turn the user is speaking (speculative start). */
  private readonly speculator = new Speculator();
  /** No LLM request while the server's Retry-After runs. */
  private readonly llmRetryAfter = new RetryAfterGate();
  private readonly tools: SessionTools;

  constructor(
    private readonly providers: Providers,
    private readonly config: SessionConfig,
    private readonly observer: SessionObserver = {},
  ) {
    this.settings = config.defaults;
    this.events = new AsyncQueue<ServerEvent>({
      maxSize: config.outboundQueueMaxBytes,
      sizeOf: (e) => (e.type === 'response_audio' ? e.data.byteLength + EVENT_OVERHEAD_BYTES : EVENT_OVERHEAD_BYTES),
      onReturn: () => this.close('the transport stopped reading events', 'client_gone'),
    });
    this.inbound = new AsyncQueue<ClientEvent>({ maxSize: config.inboundQueueMaxMessages });
    this.tools = new SessionTools(config.tools ?? NO_TOOLS, this.history, { send: (e) => this.send(e), sendItemEvent: (e) => this.sendItemEvent(e) });
    void this.processInbound();
    this.resetIdleTimer();
    observer.onOpened?.(this.id);
  }

  get currentState(): TurnState {
    return this.state;
  }

  /** Takes one client event; never throws (problems become `error` events). */
  handle(event: ClientEvent): void {
    if (this.closed) return;
    this.resetIdleTimer();
    if (!this.inbound.push(event)) {
      this.fatal('resource_exhausted', `more than ${this.config.inboundQueueMaxMessages} client messages are waiting to be processed: send audio at real-time pace`, 'client_flood');
    }
  }

  /** A message the transport could not parse: the client hears why; the session goes on. */
  rejectMessage(reason: string): void {
    if (this.closed) return;
    this.resetIdleTimer();
    this.reportError(new GatewayError('invalid_argument', reason));
  }

  /** Why the session closed, once it has. */
  get closeReason(): string | undefined {
    return this.closedBecause;
  }

  /** Why the session closed, as a fixed cause (transports choose their close status from it). */
  get closeCause(): SessionEndCause | undefined {
    return this.closedCause;
  }

  /** Aborted when the session closes: a transport blocked on a client that stopped reading stops waiting. */
  get closedSignal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** The gateway is going away: tell the client to reconnect, then close. */
  goAway(message: string): void {
    if (!this.closed) this.fatal('unavailable', message, 'shutdown');
  }

  /** True while a reply is being generated or played. */
  get busy(): boolean {
    return this.response !== null || this.pendingTurn !== null;
  }

  /** The client ended its stream: finish cleanly. */
  end(): void {
    this.close('client ended the session', 'client_ended');
  }

  close(reason: string, cause: SessionEndCause = 'other'): void {
    if (this.closed) return;
    this.closed = true;
    this.closedBecause = reason;
    this.closedCause = cause;
    this.response?.run.interrupt();
    this.response = null;
    this.speculator.cancel();
    this.tools.close();
    this.lifetime.abort();
    this.timers.forEach(clearTimeout);
    clearTimeout(this.idleTimer);
    this.inbound.endNow();
    this.voice?.close();
    this.asrResampler?.destroy();
    this.events.end();
    this.observer.onClosed?.(reason, cause);
  }

  private async processInbound(): Promise<void> {
    for await (const event of this.inbound) {
      if (this.closed) return;
      try {
        await this.dispatch(event);
      } catch (error) {
        this.reportError(error, event.ref);
      }
    }
  }

  private async dispatch(event: ClientEvent): Promise<void> {
    if (event.type === 'start') {
      this.tools.callsEndReply = event.toolCallsEndReply ?? false;
      return this.onStart(event.settings, event.itemEvents ?? false);
    }
    if (!this.started) throw new GatewayError('failed_precondition', `"${event.type}" came before "start": the first message of a session must be start`);
    switch (event.type) {
      case 'audio':
        return this.onAudio(event.data);
      case 'text':
        return this.onText(event.text);
      case 'commit':
        return this.endTurn('commit');
      case 'interrupt':
        return this.onInterrupt();
      case 'playback':
        return this.onPlayback(event.responseId, event.playedMs);
      case 'update':
        await this.onUpdate(event.settings, event.ref);
        return;
      case 'respond':
        return this.onRespond(event.instructions);
      case 'cancel':
        return this.onCancel(event.responseId);
      case 'add_item':
        return this.onAddItem(event.item, event.after, event.ref);
      case 'truncate':
        return this.onTruncate(event.itemId, event.audioEndMs, event.ref);
      case 'delete_item':
        this.history.delete(event.itemId);
        return this.sendItemEvent({ type: 'item_deleted', itemId: event.itemId, ref: event.ref });
      case 'get_item':
        return this.sendItemEvent({ type: 'item_retrieved', item: this.history.get(event.itemId), ref: event.ref });
      case 'clear_input':
        return this.onClearInput(event.ref);
      case 'tool_result':
        return this.tools.result(event);
    }
  }

  // --- start and audio -------------------------------------------------------------------------

  private async onStart(patch: Parameters<typeof applySettings>[1], itemEvents: boolean): Promise<void> {
    if (this.started) throw new GatewayError('failed_precondition', '"start" was sent twice: a session starts once; send "update" to change settings');
    this.settings = applySettings(this.config.defaults, patch, false, this.tools.limits());
    this.itemEvents = itemEvents;
    this.voice = new VoiceActivity(this.providers.vad, this.config.vad);
    await this.configureInput();
    this.started = true;
    this.timers.push(
      setTimeout(
        () => this.fatal('resource_exhausted', `the session reached its maximum duration of ${this.config.maxDurationMs / 1000} s: start a new session`, 'max_duration'),
        this.config.maxDurationMs,
      ),
    );
    this.send({ type: 'ready', sessionId: this.id, settings: this.settings });
    this.checkAsrLanguage();
  }

  /** Resamplers from the input rate to the VAD's and the recognizer's, and the session's VAD threshold. */
  private async configureInput(): Promise<void> {
    const inputRateHz = this.settings.inputFormat.sampleRateHz;
    const { asr } = this.providers;
    this.asrResampler?.destroy();
    this.asrResampler = inputRateHz === asr.sampleRateHz ? null : await StreamResampler.create(inputRateHz, asr.sampleRateHz);
    await this.voice!.setInputRate(inputRateHz);
    this.voice!.setThreshold(this.settings.turn.vadThreshold);
  }

  /** The input format may change until audio has come in (a Realtime client sets it after connecting). */
  private async onUpdate(patch: Parameters<typeof applySettings>[1], ref: string | undefined): Promise<void> {
    const before = this.settings.inputFormat;
    this.settings = applySettings(this.settings, patch, this.inputOffsetMs > 0, this.tools.limits());
    const after = this.settings.inputFormat;
    if (after.encoding !== before.encoding || after.sampleRateHz !== before.sampleRateHz) await this.configureInput();
    else this.voice!.setThreshold(this.settings.turn.vadThreshold);
    this.checkAsrLanguage();
    this.sendItemEvent({ type: 'settings_updated', settings: this.settings, ref });
  }

  private async onAudio(data: Uint8Array): Promise<void> {
    let pcm: Int16Array;
    try {
      pcm = decodeAudio(data, this.settings.inputFormat.encoding);
    } catch (error) {
      if (error instanceof AudioFormatError) throw new GatewayError('invalid_argument', `${error.message}; the chunk was dropped`);
      throw error;
    }
    const chunkMs = durationMs(pcm.length, this.settings.inputFormat.sampleRateHz);
    this.inputOffsetMs += chunkMs;
    this.uncommittedMs += chunkMs;
    this.observer.onAudio?.('in', chunkMs);
    this.ensureAsr()?.write(this.asrResampler ? this.asrResampler.process(pcm) : pcm);
    await this.voice!.push(pcm, (edge) => {
      if (this.closed) return false;
      if (edge?.type === 'speech_start') this.onSpeechStarted(edge.offsetMs);
      if (edge?.type === 'speech_end') this.onSpeechStopped(edge.offsetMs);
      this.checkBargeIn();
      this.checkVadEndOfTurn();
      return true;
    });
  }

  private onSpeechStarted(offsetMs: number): void {
    this.speechStartAt = performance.now();
    this.pendingTurn ??= this.newTurn();
    this.pendingTurn.timings.speechStartAt ??= this.speechStartAt;
    this.speechTurnId = this.pendingTurn.id;
    const audioOffsetMs = Math.max(0, Math.round(offsetMs - this.settings.turn.prefixPaddingMs));
    this.send({ type: 'speech_started', audioOffsetMs, turnId: this.speechTurnId });
    this.transition('speech_started');
  }

  private onSpeechStopped(offsetMs: number): void {
    // The turn may have ended already (recognizer endpointing), so the id is the one speech started with.
    this.send({ type: 'speech_stopped', audioOffsetMs: Math.round(offsetMs), turnId: this.speechTurnId });
    this.transition('speech_stopped');
  }

  private checkBargeIn(): void {
    const { turn } = this.settings;
    const current = this.response;
    if (!current || !turn.bargeInEnabled || !agentHasFloor(this.state)) return;
    if (this.voice!.speechMs < Math.max(turn.bargeInMinSpeechMs, 1)) return;
    current.bargeIn = { speechStartAt: this.speechStartAt ?? performance.now(), detectedAt: performance.now() };
    this.finishResponse(current.run.interrupt(), 'barge_in', 'barge_in');
  }

  private checkVadEndOfTurn(): void {
    const turn = this.pendingTurn;
    const voice = this.voice!;
    if (this.settings.turn.endOfTurnSource !== 'vad' || !turn || voice.speaking || agentHasFloor(this.state)) return;
    if (voice.lastVoicedAt === undefined || voice.silenceMs < this.settings.turn.endOfTurnSilenceMs) return;
    void this.endTurn('vad');
  }

  // --- recognition -----------------------------------------------------------------------------

  /**
   * A language the recognizer cannot transcribe is said once; audio then only feeds VAD (speech
   * events, barge-in) and the user types. Without this, every audio chunk would open a recognizer
   * stream that fails at once, one error event per chunk.
   */
  private checkAsrLanguage(): void {
    const { language } = this.settings;
    const supported = this.providers.asr.supportsLanguage?.(language) ?? true;
    if (supported === !this.asrLanguageUnsupported) return;
    this.asrLanguageUnsupported = !supported;
    if (supported) return;
    this.asr?.end();
    this.reportError(
      new GatewayError('asr_unavailable', `speech recognition does not support language "${language}": audio is not transcribed in this session (speech still interrupts replies); send typed text, or start a session in a language the recognizer supports`),
    );
  }

  /** The recognizer stream, opened when audio needs it (again after a commit or a failure). */
  private ensureAsr(): AsrStream | null {
    if (this.asrLanguageUnsupported) return null;
    if (this.asr) return this.asr;
    const stream = this.providers.asr.stream({ language: this.settings.language, sampleRateHz: this.providers.asr.sampleRateHz }, this.lifetime.signal);
    this.asr = stream;
    this.asrDone = this.consumeAsr(stream);
    return stream;
  }

  private async consumeAsr(stream: AsrStream): Promise<void> {
    try {
      for await (const result of stream) {
        if (this.closed) return;
        if (!result.text.trim()) continue;
        const turn = this.turnForAsr(stream);
        if (!turn) continue; // the agent holds the floor and nobody barged in: echo or noise
        if (result.kind === 'final') {
          turn.finals.push(result.text.trim());
          turn.partial = '';
          turn.timings.asrFinalAt = performance.now();
        } else {
          turn.partial = result.text.trim();
        }
        this.send({ type: 'transcript', turnId: turn.id, stability: result.kind === 'stable' ? 'stable' : 'partial', text: turnText(turn) });
        if (turn === this.pendingTurn) this.speculate(turn, result.kind);
        if (result.kind === 'final' && turn === this.pendingTurn && this.settings.turn.endOfTurnSource === 'asr') void this.endTurn('asr');
      }
    } catch (error: unknown) {
      if (this.closed) return;
      this.reportError(new GatewayError('asr_unavailable', `speech recognition failed: ${errorText(error)}; it restarts with the next audio`));
    } finally {
      if (this.asr === stream) this.asr = null;
    }
  }

  /**
   * The turn a recognizer result belongs to: the turn being flushed for results of the flushed
   * stream; else the pending turn, unless the agent holds the floor (then only a barge-in gives
   * it back).
   */
  private turnForAsr(stream: AsrStream): PendingTurn | null {
    if (this.flushing?.stream === stream) return this.flushing.turn;
    if (stream !== this.asr) return null; // a stream left behind (input cleared, flush timed out): its words are stale
    if (agentHasFloor(this.state)) return null;
    return (this.pendingTurn ??= this.newTurn());
  }

  /**
   * Ends the recognizer stream so it gives its last words to `turn`; the next audio opens a new
   * stream. Waits at most `asrFinalWaitMs`; past that the turn keeps the partial text it has.
   */
  private async flushAsr(turn: PendingTurn): Promise<void> {
    const stream = this.asr;
    if (!stream) return;
    this.asr = null;
    this.flushing = { stream, turn };
    stream.end();
    await settlesWithin(this.asrDone, this.config.asrFinalWaitMs);
    if (this.flushing?.stream === stream) this.flushing = null;
  }

  // --- turns and replies -----------------------------------------------------------------------

  private newTurn(): PendingTurn {
    // A turn's id is also its user item's id, so it must not be one a client gave an item.
    return { id: this.history.freeId(`turn_${++this.turnCount}`), finals: [], partial: '', timings: {} };
  }

  private async endTurn(source: 'asr' | 'vad' | 'commit'): Promise<void> {
    if (source === 'commit' && this.uncommittedMs < MIN_COMMIT_AUDIO_MS) {
      throw new GatewayError('failed_precondition', `commit came after ${Math.round(this.uncommittedMs)} ms of audio since the last turn: send at least ${MIN_COMMIT_AUDIO_MS} ms of audio first`, 'input_empty');
    }
    // Push-to-talk may commit before VAD or the recognizer noticed anything.
    const turn = source === 'commit' ? (this.pendingTurn ??= this.newTurn()) : this.pendingTurn;
    if (!turn) return;
    this.pendingTurn = null; // new speech from here on belongs to the next turn
    this.uncommittedMs = 0;
    turn.timings.speechEndAt = this.voice?.lastVoicedAt;
    turn.timings.turnEndedAt = performance.now();
    if (source === 'commit' || (source === 'vad' && turn.partial)) await this.flushAsr(turn);
    const text = turnText(turn);
    if (!text) {
      if (source === 'commit') throw new GatewayError('failed_precondition', 'no words were recognized in the committed audio: nothing was added to the conversation', 'nothing_heard');
      return;
    }
    this.addUserItem(turn.id, text, 'audio');
    this.send({ type: 'transcript', turnId: turn.id, stability: 'final', text });
    this.replyTo(turn.id, text, turn.timings);
  }

  private addUserItem(id: string, text: string, origin: ConversationItem['origin']): void {
    const item: ConversationItem = { id, role: 'user', text, origin };
    const previousItemId = this.history.insert(item);
    this.sendItemEvent({ type: 'item_added', item, previousItemId });
  }

  /** A reply now, or (autoRespond off) when the client asks with `respond`. */
  private replyTo(turnId: string, text: string, timings: TurnTimings): void {
    if (this.settings.turn.autoRespond) this.startResponse(turnId, text, timings);
    else this.unanswered = { id: turnId, text, timings };
  }

  private onText(text: string): void {
    const trimmed = text.trim();
    if (!trimmed) throw new GatewayError('invalid_argument', 'text is empty: send the words of the user message');
    if (trimmed.length > this.config.maxTextChars) {
      throw new GatewayError('invalid_argument', `text is ${trimmed.length} characters long: at most ${this.config.maxTextChars}`);
    }
    const turn = this.newTurn();
    turn.timings.turnEndedAt = performance.now();
    this.addUserItem(turn.id, trimmed, 'text');
    this.send({ type: 'transcript', turnId: turn.id, stability: 'final', text: trimmed });
    this.replyTo(turn.id, trimmed, turn.timings);
  }

  private onInterrupt(): void {
    const current = this.response;
    if (current) this.finishResponse(current.run.interrupt(), 'response_ended', 'client');
  }

  private onPlayback(responseId: string, playedMs: number): void {
    if (this.response?.run.id === responseId) return this.response.run.onPlayback(playedMs);
    const last = this.lastInterrupted;
    if (last?.id !== responseId) return; // reports on older replies change nothing
    last.run.onPlayback(playedMs);
    this.history.setText(last.itemId, last.run.interrupt().heardText);
  }

  // --- item-level events (clients with a conversation model, e.g. the OpenAI Realtime dialect) --

  private onRespond(instructions: string | undefined): void {
    const current = this.response;
    if (current) throw new GatewayError('failed_precondition', `reply ${current.run.id} is still in progress: cancel it or wait for it to end`, 'response_in_progress');
    const checked = instructions === undefined ? undefined : applySettings(this.settings, { instructions }).instructions;
    const turn = this.unanswered ?? { id: '', text: '', timings: { turnEndedAt: performance.now() } };
    this.startResponse(turn.id, turn.text, turn.timings, checked);
  }

  private onCancel(responseId: string | undefined): void {
    const current = this.response;
    if (!current || (responseId !== undefined && responseId !== current.run.id)) {
      throw new GatewayError('failed_precondition', `${responseId ? `reply ${responseId} is` : 'no reply is'} in progress: there is nothing to cancel`, 'no_response');
    }
    this.finishResponse(current.run.interrupt(), 'response_ended', 'client');
  }

  private onAddItem(item: NewItem, after: string | null | undefined, ref: string | undefined): void {
    const text = item.text.trim();
    if (!text) throw new GatewayError('invalid_argument', 'the item has no text: send the words of the message');
    if (text.length > this.config.maxTextChars) throw new GatewayError('invalid_argument', `the item's text is ${text.length} characters long: at most ${this.config.maxTextChars}`);
    if (item.id !== undefined && item.id === this.pendingTurn?.id) {
      throw new GatewayError('invalid_argument', `id "${item.id}" is taken by the user's turn in progress: choose another id or leave it out`, 'item_exists');
    }
    const added: ConversationItem = { id: item.id ?? this.history.freeId(`item_${++this.itemCount}`), role: item.role, text, origin: 'text' };
    const previousItemId = this.history.insert(added, after);
    this.sendItemEvent({ type: 'item_added', item: added, previousItemId, ref });
    if (added.role === 'user') this.unanswered = { id: added.id, text, timings: { turnEndedAt: performance.now() } };
  }

  /** Cuts an assistant item to its first `audioEndMs` of audio; a reply still running stops there. */
  private onTruncate(itemId: string, audioEndMs: number, ref: string | undefined): void {
    const current = this.response;
    let text: string;
    if (current?.itemId === itemId) {
      checkAudioEnd(itemId, audioEndMs, current.run.audioMs);
      // The client stopped playing at audioEndMs: nothing after it will be heard.
      const outcome = current.run.interrupt(audioEndMs);
      this.finishResponse(outcome, 'response_ended', 'client');
      text = outcome.heardText;
    } else {
      text = this.history.truncate(itemId, audioEndMs);
    }
    this.sendItemEvent({ type: 'item_truncated', itemId, audioEndMs, text, ref });
  }

  /** Drops the user's audio since the last end of turn: the turn in progress and its words. */
  private onClearInput(ref: string | undefined): void {
    this.pendingTurn = null;
    this.speculator.cancel(); // its words were cleared too
    this.uncommittedMs = 0;
    const stream = this.asr;
    this.asr = null; // its results are dropped from now on (turnForAsr)
    stream?.end();
    this.sendItemEvent({ type: 'input_cleared', ref });
  }

  private sendItemEvent(event: ServerEvent): void {
    if (this.itemEvents) this.send(event);
  }

  private startResponse(turnId: string, text: string, timings: TurnTimings, instructions = this.settings.instructions): void {
    if (this.response) this.finishResponse(this.response.run.interrupt(), 'response_ended', 'superseded');
    this.unanswered = null;
    const messages = this.history.forRequest(instructions);
    // A reply started early from a stable transcript goes on if it asked the same (speculation.ts).
    const early = this.speculator.resolve(turnId, messages);
    if (early.outcome !== 'none') timings.speculative = early.outcome;
    const run = early.confirmed?.run ?? this.newResponse(turnId, messages, this.providers.tts, (event) => this.emitFromResponse(run, event), null);
    // The reply's item takes its place now, so that items added while it runs come after it.
    const item: ConversationItem = { id: this.history.freeId(`reply_${this.responseCount}`), role: 'assistant', text: '', origin: 'audio' };
    const previousItemId = this.history.insert(item);
    const current = { run, itemId: item.id, timings, userText: text };
    this.response = current;
    this.send({ type: 'response_started', responseId: run.id, turnId });
    this.sendItemEvent({ type: 'item_added', item, previousItemId, responseId: run.id });
    this.transition('turn_ended');
    early.confirmed?.release((event) => this.emitFromResponse(run, event));
    void (early.confirmed?.done ?? run.run()).then((outcome) => {
      if (this.response === current) this.finishResponse(outcome, 'response_ended');
    });
  }

  private newResponse(turnId: string, messages: ChatMessage[], tts: SpeechSynthesizer, emit: (event: ServerEvent) => void, gate: HoldGate | null): Response {
    const id = `resp_${++this.responseCount}`;
    // A speculative reply acts (tools) only once the final confirmed it.
    const tools = this.tools.forReply(id, this.settings, {
      emit: (event) => emit(event),
      mayAct: () => gate?.wait() ?? Promise.resolve(true),
      cancelReason: () => reply.cause ?? 'superseded',
    });
    const reply: Response = new Response(
      id,
      turnId,
      messages,
      {
        outputFormat: this.settings.outputFormat,
        voice: this.settings.voice,
        language: this.settings.language,
        maxPieceChars: this.config.maxPieceChars,
        temperature: this.config.llmTemperature,
        maxTokens: this.config.llmMaxTokens,
        cancelBudgetMs: this.config.cancelBudgetMs,
      },
      {
        llm: this.llmRetryAfter.wrap(this.providers.llm),
        tts,
        emit,
        onAbandoned: (kind) => this.observer.onAbandoned?.(kind),
        onAudioSent: (ms) => this.observer.onAudio?.('out', ms),
        ...(tools ? { tools } : {}),
      },
    );
    return reply;
  }

  /**
   * A transcript of the turn the user is speaking: a stable one may start the reply early, one
   * with other words drops the early reply (speculation.ts).
   */
  private speculate(turn: PendingTurn, kind: AsrResult['kind']): void {
    if (!this.config.speculativeStart || !this.settings.turn.autoRespond) return;
    const request: ChatMessage[] = [...this.history.forRequest(this.settings.instructions), { role: 'user', content: turnText(turn) }];
    this.speculator.onTranscript(turn.id, kind, request, () => {
      const tts = this.providers.tts;
      return new Speculation(turn.id, request, (hold, emit, gate) => this.newResponse(turn.id, request, hold(tts), emit, gate));
    });
  }

  /** Events of a reply that is no longer current are dropped: nothing stale reaches the client. */
  private emitFromResponse(run: Response, event: ServerEvent): void {
    if (this.response?.run !== run) return;
    if (event.type === 'error') this.observer.onError?.(event.code, event.message);
    if (event.type === 'response_audio' && this.state === 'thinking') this.transition('first_audio');
    this.send(event);
  }

  private finishResponse(outcome: ReturnType<Response['interrupt']>, event: TurnEvent, cause?: InterruptCause): void {
    const current = this.response;
    if (!current) return;
    this.response = null;
    const { run, itemId, timings, userText, bargeIn } = current;
    run.cause = cause;
    this.history.setText(itemId, outcome.heardText, run.spokenPieces);
    this.lastInterrupted = outcome.status === 'interrupted' ? { id: run.id, run, itemId } : null;
    const why = outcome.status === 'interrupted' && cause ? { cause } : {};
    this.send({ type: 'response_done', responseId: run.id, status: outcome.status, heardText: outcome.heardText, audioSentMs: Math.round(outcome.audioSentMs), ...why });
    const metrics = turnMetrics(run.turnId, run.id, timings, run.timings);
    this.send({ type: 'turn_metrics', metrics });
    const { status, heardText, audioSentMs } = outcome;
    const toolCalls = run.toolCalls;
    this.observer.onTurn?.({ metrics, status, turn: timings, reply: run.timings, bargeIn, endedAt: performance.now(), userText, heardText, audioSentMs, ...(toolCalls.length ? { toolCalls } : {}) });
    this.transition(event);
  }

  // --- plumbing --------------------------------------------------------------------------------

  private transition(event: TurnEvent): void {
    this.state = nextState(this.state, event);
  }

  private send(event: ServerEvent): void {
    if (this.closed || this.events.closed) return;
    if (!this.events.push(event)) {
      // Not `fatal`: its own error event could not be queued either.
      const reason = `the client stopped reading: more than ${this.config.outboundQueueMaxBytes} bytes were waiting`;
      this.observer.onError?.('resource_exhausted', reason);
      this.close(reason, 'client_too_slow');
    }
  }

  /** `ref`: that of the client event that caused it, for the transport to answer it. */
  private reportError(error: unknown, ref?: string): void {
    const code: ErrorCode = error instanceof GatewayError ? error.code : 'internal';
    const message = error instanceof GatewayError ? error.message : `internal error: ${errorText(error)}`;
    const reason = error instanceof GatewayError && error.reason ? { reason: error.reason } : {};
    this.observer.onError?.(code, message);
    this.send({ type: 'error', code, message, sessionContinues: true, ...reason, ...(ref === undefined ? {} : { ref }) });
  }

  /** An error that ends the session. */
  private fatal(code: ErrorCode, message: string, cause: SessionEndCause): void {
    this.observer.onError?.(code, message);
    this.send({ type: 'error', code, message, sessionContinues: false });
    this.close(message, cause);
  }

  private resetIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () => this.fatal('resource_exhausted', `no message from the client for ${this.config.idleTimeoutMs / 1000} s: the session was closed as idle`, 'idle_timeout'),
      this.config.idleTimeoutMs,
    );
  }
}

function turnText(turn: PendingTurn): string {
  return [...turn.finals, turn.partial].filter(Boolean).join(' ');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
