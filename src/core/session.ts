/**
 * One voice conversation: client events in, server events out. It wires three parts and keeps
 * the session's own bounds (duration, idle time, queues) and its end. It knows no wire format and
 * no vendor.
 *
 *   - listening (./user-turns.ts): input audio, VAD, the recognizer, the user's turns;
 *   - replies (./replies.ts): the one owner of replies, early ones included;
 *   - conversation items (./conversation-items.ts): typed text, items, respond, cancel.
 *
 * Who has the floor is read from ./turn-state.ts, never stored. Client events are processed one
 * at a time in arrival order (audio order matters); replies and the recognizer's results run
 * beside that loop, so a slow backend never blocks listening.
 */
import { randomUUID } from 'node:crypto';
import type { Providers } from '../providers/types.js';
import { AsyncQueue } from '../lib/async-queue.js';
import { ConversationItems } from './conversation-items.js';
import { GatewayError, type ClientEvent, type ErrorCode, type ServerEvent, type SessionSettings } from './events.js';
import { ConversationHistory } from './history.js';
import { Replies } from './replies.js';
import { applySettings } from './settings.js';
import type { TurnReport } from './turn-metrics.js';
import { turnRules, turnState, type TurnState } from './turn-state.js';
import { turnText, UserTurns } from './user-turns.js';
import type { VadSegmenterSettings } from './vad-segmenter.js';
import { CHECKPOINT_EVENTS, endCutOff, readSnapshot, restoreParts, snapshotOf, type PlayedPosition, type SessionSnapshot } from './session-snapshot.js';

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
  /** What is sent to the LLM is cut to this many (estimated) tokens, oldest turns first (LLM_CONTEXT_TOKENS). */
  llmContextTokens: number;
  /** A stable interim transcript starts the reply early; the final confirms or restarts it. */
  speculativeStart: boolean;
}

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
  /** The state worth keeping for a resume changed (a turn or reply ended, a piece was spoken, ...). */
  onCheckpoint?(): void;
}

const EVENT_OVERHEAD_BYTES = 64;

export class Session {
  /** Server events for the transport to send, bounded in bytes. */
  readonly events: AsyncQueue<ServerEvent>;

  private settings: SessionSettings;
  private isStarted = false;
  private closed = false;
  private closedBecause: string | undefined;
  private closedCause: SessionEndCause | undefined;
  private readonly history = new ConversationHistory();
  private readonly inbound: AsyncQueue<ClientEvent>;
  private readonly lifetime = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  /** The transport asked for item events (start.itemEvents). */
  private itemEvents = false;
  /** Client events taken and processed, for `settled()`. */
  private eventsTaken = 0;
  private eventsProcessed = 0;
  private readonly settledWaiters: Array<{ upTo: number; wake: () => void }> = [];
  private openedAtMs = Date.now(); // ms since the epoch; a resumed session keeps its first one
  private detached = false; // no client is connected (a resume may follow)
  private handedOver = false; // handed over for a resume elsewhere: client events no longer change it

  private readonly replies: Replies;
  private readonly items: ConversationItems;
  /** Made at `start`, when the input format is known. */
  private listening: UserTurns | null = null;

  constructor(
    private readonly providers: Providers,
    private readonly config: SessionConfig,
    private readonly observer: SessionObserver = {},
    /** A restored session keeps its id. */
    readonly id = `sess_${randomUUID().slice(0, 12)}`,
  ) {
    this.settings = config.defaults;
    this.events = new AsyncQueue<ServerEvent>({
      maxSize: config.outboundQueueMaxBytes,
      sizeOf: (e) => (e.type === 'response_audio' ? e.data.byteLength + EVENT_OVERHEAD_BYTES : EVENT_OVERHEAD_BYTES),
      onReturn: () => this.close('the transport stopped reading events', 'client_gone'),
    });
    this.inbound = new AsyncQueue<ClientEvent>({ maxSize: config.inboundQueueMaxMessages });
    const host = { settings: () => this.settings, send: (e: ServerEvent) => this.send(e), sendItemEvent: (e: ServerEvent) => this.sendItemEvent(e) };
    this.replies = new Replies(providers, config, this.history, observer, host);
    this.items = new ConversationItems(this.history, this.replies, config.maxTextChars, {
      ...host,
      pendingTurnId: () => this.listening?.pendingTurnId,
      clearInput: () => this.listening?.clear(),
    });
    void this.processInbound();
    this.resetIdleTimer();
    observer.onOpened?.(this.id);
  }

  /** Who has the floor now, read from the facts (./turn-state.ts). */
  get currentState(): TurnState {
    return turnState({ reply: this.replies.phase, userSpeaking: this.listening?.userSpeaking ?? false });
  }

  get started(): boolean {
    return this.isStarted;
  }
  /** No reply in progress and no user turn being spoken: a hand-over now cuts nothing. */
  get quiet(): boolean {
    return !this.replies.active && this.listening?.pendingTurnId === undefined;
  }

  /** Takes one client event; never throws (problems become `error` events). */
  handle(event: ClientEvent): void {
    if (this.closed || this.handedOver) return;
    this.resetIdleTimer();
    if (!this.inbound.push(event)) {
      this.fatal('resource_exhausted', `more than ${this.config.inboundQueueMaxMessages} client messages are waiting to be processed: send audio at real-time pace`, 'client_flood');
      return;
    }
    this.eventsTaken++;
  }

  /**
   * Resolves once every client event taken before this call has been processed (or the session
   * closed): what a test waits for before it checks that something did not happen.
   */
  settled(): Promise<void> {
    if (this.closed || this.eventsProcessed >= this.eventsTaken) return Promise.resolve();
    return new Promise((wake) => this.settledWaiters.push({ upTo: this.eventsTaken, wake }));
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

  /** The gateway is going away: tell the client (to reconnect, or to resume with `code` reconnect_to_resume), then close. */
  goAway(message: string, code: ErrorCode = 'unavailable'): void {
    if (!this.closed) this.fatal(code, message, 'shutdown');
  }

  /** For a resume (./session-snapshot.ts; src/resume drives these methods). */
  snapshot(): SessionSnapshot {
    return snapshotOf({ id: this.id, openedAtMs: this.openedAtMs, settings: this.settings, itemEvents: this.itemEvents, history: this.history, items: this.items, replies: this.replies, listening: this.listening });
  }

  /** In place of `start`: the conversation of a snapshot saved elsewhere, then `ready` (resumed) and what was cut off (restoreParts). */
  async restore(data: unknown, played: PlayedPosition | undefined): Promise<void> {
    const snapshot = readSnapshot(data, this.id);
    ({ settings: this.settings, itemEvents: this.itemEvents, openedAtMs: this.openedAtMs } = snapshot);
    restoreParts({ history: this.history, items: this.items, replies: this.replies }, snapshot);
    await this.begin(true);
    endCutOff({ items: this.items, replies: this.replies }, snapshot, played);
    this.observer.onCheckpoint?.();
  }

  /** The client is gone for now: nothing counts as played, and no idle time runs, until it is back. */
  detach(): void {
    this.detached = true;
    clearTimeout(this.idleTimer);
    this.replies.pause();
  }

  /** The client is back (same process): `ready` again, the reply goes on from `played`, a spoken turn ends. */
  reattach(played: PlayedPosition | undefined): void {
    this.detached = false;
    this.resetIdleTimer();
    this.send({ type: 'ready', sessionId: this.id, settings: this.settings, resumed: true });
    this.replies.resumeFrom(played);
    if (this.listening?.pendingTurnId !== undefined) void this.listening.finishTurn().catch((error: unknown) => this.reportError(error));
  }

  /** Drain: a reply in progress ends where the client stopped hearing it; the rest waits in the snapshot. */
  handOver(): void {
    this.handedOver = true;
    this.replies.interruptByClient();
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
    this.replies.close();
    this.lifetime.abort();
    this.timers.forEach(clearTimeout);
    clearTimeout(this.idleTimer);
    this.inbound.endNow();
    this.listening?.close();
    this.events.end();
    for (const { wake } of this.settledWaiters.splice(0)) wake();
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
      this.eventsProcessed++;
      for (let i = this.settledWaiters.length - 1; i >= 0; i--) {
        if (this.settledWaiters[i]!.upTo <= this.eventsProcessed) this.settledWaiters.splice(i, 1)[0]!.wake();
      }
    }
  }

  private async dispatch(event: ClientEvent): Promise<void> {
    if (event.type === 'start') return this.onStart(event.settings, event.itemEvents ?? false);
    const listening = this.listening;
    if (!this.isStarted || !listening) throw new GatewayError('failed_precondition', `"${event.type}" came before "start": the first message of a session must be start`);
    switch (event.type) {
      case 'audio':
        return listening.push(event.data);
      case 'commit':
        return listening.commit();
      case 'update':
        return this.onUpdate(listening, event.settings, event.ref);
      case 'playback':
        return this.replies.playback(event.responseId, event.playedMs);
      case 'text':
        return this.items.text(event.text);
      case 'interrupt':
        return this.items.interrupt();
      case 'respond':
        return this.items.respond(event.instructions);
      case 'cancel':
        return this.items.cancel(event.responseId);
      case 'add_item':
        return this.items.addItem(event.item, event.after, event.ref);
      case 'truncate':
        return this.items.truncate(event.itemId, event.audioEndMs, event.ref);
      case 'delete_item':
        return this.items.delete(event.itemId, event.ref);
      case 'get_item':
        return this.items.get(event.itemId, event.ref);
      case 'clear_input':
        return this.items.clearInput(event.ref);
    }
  }

  private async onStart(patch: Parameters<typeof applySettings>[1], itemEvents: boolean): Promise<void> {
    if (this.isStarted) throw new GatewayError('failed_precondition', '"start" was sent twice: a session starts once; send "update" to change settings');
    this.settings = applySettings(this.config.defaults, patch);
    this.itemEvents = itemEvents;
    await this.begin(false);
  }

  /** Listening, the duration bound, and `ready`. */
  private async begin(resumed: boolean): Promise<void> {
    const listening = this.listen();
    this.listening = listening;
    await listening.configureInput();
    this.isStarted = true;
    const leftMs = Math.max(0, this.openedAtMs + this.config.maxDurationMs - Date.now());
    const tooLong = `the session reached its maximum duration of ${this.config.maxDurationMs / 1000} s: start a new session`;
    this.timers.push(setTimeout(() => this.fatal('resource_exhausted', tooLong, 'max_duration'), leftMs));
    this.send({ type: 'ready', sessionId: this.id, settings: this.settings, ...(resumed ? { resumed } : {}) });
    listening.checkLanguage();
  }

  /** The input format may change until audio has come in (a Realtime client sets it after connecting). */
  private async onUpdate(listening: UserTurns, patch: Parameters<typeof applySettings>[1], ref: string | undefined): Promise<void> {
    const before = this.settings.inputFormat;
    this.settings = applySettings(this.settings, patch, listening.heardAudio);
    const after = this.settings.inputFormat;
    if (after.encoding !== before.encoding || after.sampleRateHz !== before.sampleRateHz) await listening.configureInput();
    else listening.settingsChanged();
    listening.checkLanguage();
    this.sendItemEvent({ type: 'settings_updated', settings: this.settings, ref });
    this.observer.onCheckpoint?.();
  }

  /** Listening, and what the session does with what it hears. */
  private listen(): UserTurns {
    const rules = () => turnRules(this.currentState);
    return new UserTurns(this.providers, this.config.vad, () => this.settings, this.config.asrFinalWaitMs, () => this.items.newTurnId(), this.lifetime.signal, {
      agentHasFloor: () => rules().agentHasFloor,
      audioIn: (ms) => this.observer.onAudio?.('in', ms),
      speechStarted: (turnId, audioOffsetMs) => this.send({ type: 'speech_started', audioOffsetMs, turnId }),
      speechStopped: (turnId, audioOffsetMs) => this.send({ type: 'speech_stopped', audioOffsetMs, turnId }),
      transcript: (turn, kind, pending) => {
        const text = turnText(turn);
        if (kind === 'final') this.observer.onCheckpoint?.(); // the words of a turn being spoken survive a crash
        this.send({ type: 'transcript', turnId: turn.id, stability: kind === 'stable' ? 'stable' : 'partial', text });
        if (pending) this.replies.speculate({ id: turn.id, text, timings: turn.timings }, kind);
      },
      speechWhileAgentHasFloor: (speechMs, speechStartAt) => {
        const { turn } = this.settings;
        if (turn.bargeInEnabled && rules().bargeInPossible && speechMs >= Math.max(turn.bargeInMinSpeechMs, 1)) this.replies.bargeIn(speechStartAt);
      },
      turnEnded: (turn, text) => this.items.userTurnEnded({ id: turn.id, text, timings: turn.timings }),
      error: (error) => this.reportError(error),
    });
  }

  // --- plumbing --------------------------------------------------------------------------------

  private sendItemEvent(event: ServerEvent): void {
    if (this.itemEvents) this.send(event);
  }

  private send(event: ServerEvent): void {
    if (this.closed || this.events.closed) return;
    if (CHECKPOINT_EVENTS.has(event.type)) queueMicrotask(() => this.observer.onCheckpoint?.()); // after the part that sent it has finished its change
    if (!this.events.push(event)) this.clientTooSlow();
  }

  /** The client's connection holds more than OUTBOUND_QUEUE_MAX_BYTES unread: the session ends. */
  clientTooSlow(): void {
    // Not `fatal`: its own error event could not be queued either.
    const reason = `the client stopped reading: more than ${this.config.outboundQueueMaxBytes} bytes were waiting`;
    this.observer.onError?.('resource_exhausted', reason);
    this.close(reason, 'client_too_slow');
  }

  /** `ref`: that of the client event that caused it, for the transport to answer it. */
  private reportError(error: unknown, ref?: string): void {
    const code: ErrorCode = error instanceof GatewayError ? error.code : 'internal';
    const message = error instanceof GatewayError ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
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
    if (this.detached) return;
    this.idleTimer = setTimeout(
      () => this.fatal('resource_exhausted', `no message from the client for ${this.config.idleTimeoutMs / 1000} s: the session was closed as idle`, 'idle_timeout'),
      this.config.idleTimeoutMs,
    );
  }
}
