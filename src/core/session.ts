/**
 * One voice conversation. It takes client events, runs VAD and ASR on the user's audio, decides
 * when the user's turn ended and when the user interrupts, runs replies (./response.ts) and keeps
 * the history of what was heard. It knows no wire format and no vendor.
 *
 * Client events are processed one at a time in arrival order (audio order matters); replies and
 * the recognizer's results run beside that loop, so a slow backend never blocks listening.
 */
import { randomUUID } from 'node:crypto';
import { decodeAudio } from '../audio/codec.js';
import { AudioFormatError, durationMs } from '../audio/pcm.js';
import { StreamResampler } from '../audio/resampler.js';
import type { AsrStream, Providers, VadStream } from '../providers/types.js';
import { settlesWithin } from './abortable.js';
import { AsyncQueue } from '../lib/async-queue.js';
import { GatewayError, type ClientEvent, type ErrorCode, type ServerEvent, type SessionSettings } from './events.js';
import { ConversationHistory } from './history.js';
import { Response } from './response.js';
import { applySettings } from './settings.js';
import { turnMetrics, type TurnTimings } from './turn-metrics.js';
import { agentHasFloor, nextState, type TurnEvent, type TurnState } from './turn-state.js';
import { VadSegmenter, type VadSegmenterSettings } from './vad-segmenter.js';

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
}

/** Observers (metrics, logs) learn what happened without sitting in the audio path. */
export interface SessionObserver {
  onTurn?(metrics: ReturnType<typeof turnMetrics>, status: string): void;
  onAbandoned?(kind: 'llm' | 'tts'): void;
  onError?(code: ErrorCode, message: string): void;
  onClosed?(reason: string): void;
}

interface PendingTurn {
  id: string;
  finals: string[];
  partial: string;
  timings: TurnTimings;
}

const EVENT_OVERHEAD_BYTES = 64;

export class Session {
  readonly id = `sess_${randomUUID().slice(0, 12)}`;
  /** Server events for the transport to send, bounded in bytes. */
  readonly events: AsyncQueue<ServerEvent>;

  private settings: SessionSettings;
  private started = false;
  private closed = false;
  private closedBecause: string | undefined;
  private state: TurnState = 'listening';
  private readonly history = new ConversationHistory();
  private readonly inbound: AsyncQueue<ClientEvent>;
  private readonly lifetime = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  private vad: VadStream | null = null;
  private segmenter: VadSegmenter;
  private vadResampler: StreamResampler | null = null;
  private asrResampler: StreamResampler | null = null;
  private vadBuffer = new Int16Array(0);
  private vadOffsetMs = 0;
  private inputOffsetMs = 0;
  private lastVoicedAt: number | undefined;

  private asr: AsrStream | null = null;
  private asrDone: Promise<void> = Promise.resolve();
  private flushing: { stream: AsrStream; turn: PendingTurn } | null = null;
  private turnCount = 0;
  private pendingTurn: PendingTurn | null = null;
  private response: { run: Response; timings: TurnTimings; bargedIn: boolean } | null = null;
  /** The last interrupted reply, so a late playback report can still correct the history. */
  private lastInterrupted: { id: string; run: Response; historyIndex: number } | null = null;

  constructor(
    private readonly providers: Providers,
    private readonly config: SessionConfig,
    private readonly observer: SessionObserver = {},
  ) {
    this.settings = config.defaults;
    this.segmenter = new VadSegmenter(config.vad);
    this.events = new AsyncQueue<ServerEvent>({
      maxSize: config.outboundQueueMaxBytes,
      sizeOf: (e) => (e.type === 'response_audio' ? e.data.byteLength + EVENT_OVERHEAD_BYTES : EVENT_OVERHEAD_BYTES),
      onReturn: () => this.close('the transport stopped reading events'),
    });
    this.inbound = new AsyncQueue<ClientEvent>({ maxSize: config.inboundQueueMaxMessages });
    void this.processInbound();
    this.resetIdleTimer();
  }

  get currentState(): TurnState {
    return this.state;
  }

  /** Takes one client event; never throws (problems become `error` events). */
  handle(event: ClientEvent): void {
    if (this.closed) return;
    this.resetIdleTimer();
    if (!this.inbound.push(event)) {
      this.fatal('resource_exhausted', `more than ${this.config.inboundQueueMaxMessages} client messages are waiting to be processed: send audio at real-time pace`);
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

  /** The client ended its stream: finish cleanly. */
  end(): void {
    this.close('client ended the session');
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closedBecause = reason;
    this.response?.run.interrupt();
    this.response = null;
    this.lifetime.abort();
    this.timers.forEach(clearTimeout);
    clearTimeout(this.idleTimer);
    this.inbound.endNow();
    this.vad?.close();
    this.vadResampler?.destroy();
    this.asrResampler?.destroy();
    this.events.end();
    this.observer.onClosed?.(reason);
  }

  private async processInbound(): Promise<void> {
    for await (const event of this.inbound) {
      if (this.closed) return;
      try {
        await this.dispatch(event);
      } catch (error) {
        this.reportError(error);
      }
    }
  }

  private async dispatch(event: ClientEvent): Promise<void> {
    if (event.type === 'start') return this.onStart(event.settings);
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
        this.settings = applySettings(this.settings, event.settings, true);
        return;
    }
  }

  // --- start and audio -------------------------------------------------------------------------

  private async onStart(patch: Parameters<typeof applySettings>[1]): Promise<void> {
    if (this.started) throw new GatewayError('failed_precondition', '"start" was sent twice: a session starts once; send "update" to change settings');
    this.settings = applySettings(this.config.defaults, patch);
    const inputRateHz = this.settings.inputFormat.sampleRateHz;
    const { vad, asr } = this.providers;
    this.vadResampler = inputRateHz === vad.sampleRateHz ? null : await StreamResampler.create(inputRateHz, vad.sampleRateHz);
    this.asrResampler = inputRateHz === asr.sampleRateHz ? null : await StreamResampler.create(inputRateHz, asr.sampleRateHz);
    this.vad = vad.createStream();
    this.started = true;
    this.timers.push(
      setTimeout(
        () => this.fatal('resource_exhausted', `the session reached its maximum duration of ${this.config.maxDurationMs / 1000} s: start a new session`),
        this.config.maxDurationMs,
      ),
    );
    this.send({ type: 'ready', sessionId: this.id, settings: this.settings });
  }

  private async onAudio(data: Uint8Array): Promise<void> {
    let pcm: Int16Array;
    try {
      pcm = decodeAudio(data, this.settings.inputFormat.encoding);
    } catch (error) {
      if (error instanceof AudioFormatError) throw new GatewayError('invalid_argument', `${error.message}; the chunk was dropped`);
      throw error;
    }
    this.inputOffsetMs += durationMs(pcm.length, this.settings.inputFormat.sampleRateHz);
    this.ensureAsr().write(this.asrResampler ? this.asrResampler.process(pcm) : pcm);
    await this.runVad(this.vadResampler ? this.vadResampler.process(pcm) : pcm);
  }

  private async runVad(pcm: Int16Array): Promise<void> {
    const { frameSamples, sampleRateHz } = this.providers.vad;
    const frameMs = durationMs(frameSamples, sampleRateHz);
    const buffered = new Int16Array(this.vadBuffer.length + pcm.length);
    buffered.set(this.vadBuffer);
    buffered.set(pcm, this.vadBuffer.length);
    let at = 0;
    for (; at + frameSamples <= buffered.length; at += frameSamples) {
      const probability = await this.vad!.speechProbability(buffered.subarray(at, at + frameSamples));
      if (this.closed) return;
      const startMs = this.vadOffsetMs;
      this.vadOffsetMs += frameMs;
      if (probability >= this.config.vad.threshold) this.lastVoicedAt = performance.now();
      const edge = this.segmenter.push(probability, startMs, this.vadOffsetMs);
      if (edge?.type === 'speech_start') this.onSpeechStarted(edge.offsetMs);
      if (edge?.type === 'speech_end') this.onSpeechStopped(edge.offsetMs);
      this.checkBargeIn();
      this.checkVadEndOfTurn();
    }
    this.vadBuffer = buffered.slice(at);
  }

  private onSpeechStarted(offsetMs: number): void {
    this.send({ type: 'speech_started', audioOffsetMs: Math.round(offsetMs) });
    this.pendingTurn ??= this.newTurn();
    this.transition('speech_started');
  }

  private onSpeechStopped(offsetMs: number): void {
    this.send({ type: 'speech_stopped', audioOffsetMs: Math.round(offsetMs) });
    this.transition('speech_stopped');
  }

  private checkBargeIn(): void {
    const { turn } = this.settings;
    const current = this.response;
    if (!current || !turn.bargeInEnabled || !agentHasFloor(this.state)) return;
    if (this.segmenter.speechDurationMs(this.vadOffsetMs) < Math.max(turn.bargeInMinSpeechMs, 1)) return;
    current.bargedIn = true;
    this.finishResponse(current.run.interrupt(), 'barge_in');
  }

  private checkVadEndOfTurn(): void {
    const turn = this.pendingTurn;
    if (this.settings.turn.endOfTurnSource !== 'vad' || !turn || this.segmenter.speaking || agentHasFloor(this.state)) return;
    if (this.lastVoicedAt === undefined || this.segmenter.silenceDurationMs(this.vadOffsetMs) < this.settings.turn.endOfTurnSilenceMs) return;
    void this.endTurn('vad');
  }

  // --- recognition -----------------------------------------------------------------------------

  /** The recognizer stream, opened when audio needs it (again after a commit or a failure). */
  private ensureAsr(): AsrStream {
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
    return { id: `turn_${++this.turnCount}`, finals: [], partial: '', timings: {} };
  }

  private async endTurn(source: 'asr' | 'vad' | 'commit'): Promise<void> {
    // Push-to-talk may commit before VAD or the recognizer noticed anything.
    const turn = source === 'commit' ? (this.pendingTurn ??= this.newTurn()) : this.pendingTurn;
    if (!turn) return;
    this.pendingTurn = null; // new speech from here on belongs to the next turn
    turn.timings.speechEndAt = this.lastVoicedAt;
    turn.timings.turnEndedAt = performance.now();
    if (source === 'commit' || (source === 'vad' && turn.partial)) await this.flushAsr(turn);
    const text = turnText(turn);
    if (!text) return;
    this.send({ type: 'transcript', turnId: turn.id, stability: 'final', text });
    this.startResponse(turn.id, text, turn.timings);
  }

  private onText(text: string): void {
    const trimmed = text.trim();
    if (!trimmed) throw new GatewayError('invalid_argument', 'text is empty: send the words of the user message');
    if (trimmed.length > this.config.maxTextChars) {
      throw new GatewayError('invalid_argument', `text is ${trimmed.length} characters long: at most ${this.config.maxTextChars}`);
    }
    const turn = this.newTurn();
    turn.timings.turnEndedAt = performance.now();
    this.send({ type: 'transcript', turnId: turn.id, stability: 'final', text: trimmed });
    this.startResponse(turn.id, trimmed, turn.timings);
  }

  private onInterrupt(): void {
    const current = this.response;
    if (current) this.finishResponse(current.run.interrupt(), 'response_ended');
  }

  private onPlayback(responseId: string, playedMs: number): void {
    if (this.response?.run.id === responseId) return this.response.run.onPlayback(playedMs);
    const last = this.lastInterrupted;
    if (last?.id !== responseId) return; // reports on older replies change nothing
    last.run.onPlayback(playedMs);
    const heard = last.run.interrupt().heardText;
    this.history.setContent(last.historyIndex, heard);
  }

  private startResponse(turnId: string, text: string, timings: TurnTimings): void {
    if (this.response) this.finishResponse(this.response.run.interrupt(), 'response_ended');
    this.history.addUser(text);
    const run = new Response(
      turnId.replace('turn_', 'resp_'),
      turnId,
      this.history.forRequest(this.settings.instructions),
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
        llm: this.providers.llm,
        tts: this.providers.tts,
        emit: (event) => this.emitFromResponse(run, event),
        onAbandoned: (kind) => this.observer.onAbandoned?.(kind),
      },
    );
    const current = { run, timings, bargedIn: false };
    this.response = current;
    this.send({ type: 'response_started', responseId: run.id, turnId });
    this.transition('turn_ended');
    void run.run().then((outcome) => {
      if (this.response === current) this.finishResponse(outcome, 'response_ended');
    });
  }

  /** Events of a reply that is no longer current are dropped: nothing stale reaches the client. */
  private emitFromResponse(run: Response, event: ServerEvent): void {
    if (this.response?.run !== run) return;
    if (event.type === 'response_audio' && this.state === 'thinking') this.transition('first_audio');
    this.send(event);
  }

  private finishResponse(outcome: ReturnType<Response['interrupt']>, event: TurnEvent): void {
    const current = this.response;
    if (!current) return;
    this.response = null;
    const { run, timings } = current;
    const historyIndex = this.history.addAssistant(outcome.heardText);
    this.lastInterrupted = outcome.status === 'interrupted' && historyIndex >= 0 ? { id: run.id, run, historyIndex } : null;
    this.send({ type: 'response_done', responseId: run.id, status: outcome.status, heardText: outcome.heardText, audioSentMs: Math.round(outcome.audioSentMs) });
    const metrics = turnMetrics(run.turnId, run.id, timings, run.timings);
    this.send({ type: 'turn_metrics', metrics });
    this.observer.onTurn?.(metrics, outcome.status);
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
      this.close(reason);
    }
  }

  private reportError(error: unknown): void {
    const code: ErrorCode = error instanceof GatewayError ? error.code : 'internal';
    const message = error instanceof GatewayError ? error.message : `internal error: ${errorText(error)}`;
    this.observer.onError?.(code, message);
    this.send({ type: 'error', code, message, sessionContinues: true });
  }

  /** An error that ends the session. */
  private fatal(code: ErrorCode, message: string): void {
    this.observer.onError?.(code, message);
    this.send({ type: 'error', code, message, sessionContinues: false });
    this.close(message);
  }

  private resetIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () => this.fatal('resource_exhausted', `no message from the client for ${this.config.idleTimeoutMs / 1000} s: the session was closed as idle`),
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
