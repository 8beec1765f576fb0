/**
 * One voice conversation: client events in, server events out. It wires three parts and keeps
 * the session's own bounds (duration, idle time, queues) and its end. It knows no wire format and
 * no vendor.
 *
 *   - listening (./user-turns.ts): input audio, VAD, the recognizer, the user's turns;
 *   - replies (./replies.ts): the one owner of replies, early ones included;
 *   - conversation items (./conversation-items.ts): typed text, items, respond, cancel;
 *   - resume (./session-resume.ts): its state as data, and a client that goes away and comes back.
 *
 * Who has the floor is read from ./turn-state.ts, never stored. Client events are processed one
 * at a time in arrival order (audio order matters); replies and the recognizer's results run
 * beside that loop, so a slow backend never blocks listening.
 */
import { randomUUID } from 'node:crypto';
import type { Providers } from '../providers/types.js';
import { AsyncQueue } from '../lib/async-queue.js';
import { byteSizeOf } from '../lib/byte-size.js';
import { BargeIn } from './barge-in.js';
import { boundedMessage, errorText } from './client-text.js';
import { ConversationItems } from './conversation-items.js';
import { GatewayError, type ClientEvent, type ErrorCode, type ServerEvent, type SessionSettings } from './events.js';
import { ConversationHistory } from './history.js';
import { Replies } from './replies.js';
import { runInSessionScope, type SessionScope } from './session-scope.js';
import { applySettings } from './settings.js';
import { turnRules, turnState, type TurnState } from './turn-state.js';
import { turnText, UserTurns } from './user-turns.js';
import type { SessionConfig, SessionEndCause, SessionObserver } from './session-config.js';
import { SessionResume } from './session-resume.js';
import { SessionDeadlines } from './session-deadlines.js';
import { ProcessedBarrier } from './processed-barrier.js';

export type { SessionConfig, SessionEndCause, SessionObserver } from './session-config.js';

export class Session {
  /** Server events for the transport to send, bounded in bytes. */
  readonly events: AsyncQueue<ServerEvent>;
  /** What a resume drives (src/resume): snapshot, restore, detach, reattach, hand-over. */
  readonly resume: SessionResume;

  private settings: SessionSettings;
  private isStarted = false;
  private closed = false;
  private closedBecause: string | undefined;
  private closedCause: SessionEndCause | undefined;
  private readonly history = new ConversationHistory();
  private readonly inbound: AsyncQueue<ClientEvent>;
  private readonly lifetime = new AbortController();
  /** Errors that escape this session's work are laid at its door (session-scope.ts). */
  private readonly scope: SessionScope;
  /** Start timeout, idle time, maximum duration (./session-deadlines.ts). */
  private readonly deadlines: SessionDeadlines;
  /** The transport asked for item events (start.itemEvents). */
  private itemEvents = false;
  /** Client events taken and processed, for `settled()`. */
  private readonly barrier = new ProcessedBarrier();

  private readonly replies: Replies;
  private readonly interruptions: BargeIn;
  private readonly items: ConversationItems;
  /** Made at `start`, when the input format is known. */
  private listening: UserTurns | null = null;

  constructor(
    private readonly providers: Providers,
    private readonly config: SessionConfig,
    private readonly observer: SessionObserver = {},
    readonly id = `sess_${randomUUID().slice(0, 12)}`, // a restored session keeps its id
  ) {
    this.scope = { sessionId: id, fail: (error) => this.fail(error) };
    this.settings = config.defaults;
    this.deadlines = new SessionDeadlines(config, (code, message, cause) => this.fatal(code, message, cause));
    this.events = new AsyncQueue<ServerEvent>({
      maxSize: config.outboundQueueMaxBytes,
      sizeOf: byteSizeOf, // text counts too: echoed text once let a client that does not read fill memory
      onReturn: () => this.close('the transport stopped reading events', 'client_gone'),
    });
    this.inbound = new AsyncQueue<ClientEvent>({ maxItems: config.inboundQueueMaxMessages, maxSize: config.inboundQueueMaxBytes, sizeOf: byteSizeOf });
    const host = {
      settings: () => this.settings,
      send: (e: ServerEvent) => this.send(e),
      sendItemEvent: (e: ServerEvent) => this.sendItemEvent(e),
      background: (work: Promise<unknown>) => this.background(work),
    };
    this.replies = new Replies(providers, config, this.history, observer, host);
    this.items = new ConversationItems(this.history, this.replies, config.maxTextChars, {
      ...host,
      turnIdTaken: (id) => this.listening?.turnIdTaken(id) ?? false,
      clearInput: () => this.listening?.clear(),
    });
    this.interruptions = new BargeIn({ ...host, closed: this.lifetime.signal, bargeInPossible: () => turnRules(this.currentState).bargeInPossible, bargeIn: (at) => this.replies.bargeIn(at), pause: () => this.replies.pauseForSpeech(), resume: (id) => this.replies.unpause(id) });
    const { history, items, replies, scope, deadlines } = this;
    this.resume = new SessionResume({
      ...host, scope, deadlines, observer,
      parts: () => ({ id: this.id, openedAtMs: deadlines.openedAtMs, settings: this.settings, itemEvents: this.itemEvents, history, items, replies, listening: this.listening }),
      adopt: (saved) => ({ settings: this.settings, itemEvents: this.itemEvents, openedAtMs: deadlines.openedAtMs } = saved),
      begin: () => this.begin(true),
    });
    runInSessionScope(this.scope, () => {
      this.background(this.processInbound());
      this.deadlines.opened();
    });
    observer.onOpened?.(this.id);
  }

  get started(): boolean {
    return this.isStarted;
  }

  /** Who has the floor now, read from the facts (./turn-state.ts). */
  get currentState(): TurnState {
    return turnState({ reply: this.replies.phase, userSpeaking: this.listening?.userSpeaking ?? false });
  }

  /**
   * Takes one client event; never throws (problems become `error` events). Only an event the
   * session accepts counts as activity for the idle timeout.
   */
  handle(event: ClientEvent): void {
    if (this.closed || this.resume.handedOver) return;
    if (!this.inbound.push(event)) {
      const { inboundQueueMaxMessages, inboundQueueMaxBytes } = this.config;
      this.fatal('resource_exhausted', `more than ${inboundQueueMaxMessages} client messages or ${inboundQueueMaxBytes} bytes are waiting to be processed: send audio at real-time pace`, 'client_flood');
      return;
    }
    this.barrier.took();
  }

  /** Resolves once every client event taken so far is processed (or the session closed): what a test awaits. */
  settled(): Promise<void> {
    return this.closed ? Promise.resolve() : this.barrier.settled();
  }

  /** A message the transport could not parse: the client hears why; the session goes on. It is not activity. */
  rejectMessage(reason: string): void {
    if (this.closed) return;
    this.reportError(new GatewayError('invalid_argument', reason));
  }

  /**
   * `handler` run inside this session's scope: a transport binds its per-connection callbacks, so
   * that an exception in one is laid at this session's door (session-scope.ts), not the process's.
   */
  bind<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
    return (...args) => runInSessionScope(this.scope, () => handler(...args));
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
    this.deadlines.stop();
    this.inbound.endNow();
    this.listening?.close();
    this.events.end();
    this.barrier.releaseAll();
    this.observer.onClosed?.(reason, cause);
  }

  private async processInbound(): Promise<void> {
    for await (const event of this.inbound) {
      if (this.closed) return;
      try {
        await this.dispatch(event);
        this.deadlines.activity(); // refused events are not activity: garbage cannot keep a session open
      } catch (error) {
        this.reportError(error, event.ref);
      }
      this.barrier.processedOne();
    }
  }

  private async dispatch(event: ClientEvent): Promise<void> {
    if (event.type === 'start') return this.onStart(event);
    const listening = this.listening;
    if (!this.started || !listening) throw new GatewayError('failed_precondition', `"${event.type}" came before "start": the first message of a session must be start`);
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
      case 'say':
        return this.items.say(event.text);
      case 'tool_result':
        return this.replies.tools.result(event);
    }
  }

  private onStart(start: Extract<ClientEvent, { type: 'start' }>): void {
    if (this.isStarted) throw new GatewayError('failed_precondition', '"start" was sent twice: a session starts once; send "update" to change settings');
    this.settings = applySettings(this.config.defaults, start.settings, false, this.replies.tools.limits());
    this.itemEvents = start.itemEvents ?? false;
    this.replies.tools.callsEndReply = start.toolCallsEndReply ?? false;
    this.replies.tools.endCallTool = start.endCallTool ?? false;
    this.begin(false);
  }

  /** Listening, the duration bound (from when the session first opened), and `ready`. */
  private begin(resumed: boolean): void {
    const listening = this.listen();
    this.listening = listening;
    listening.configureInput();
    this.isStarted = true;
    this.deadlines.started();
    this.send({ type: 'ready', sessionId: this.id, settings: this.settings, ...(resumed ? { resumed } : {}) });
    listening.checkLanguage();
  }

  /** The input format may change until audio has come in (a Realtime client sets it after connecting). */
  private onUpdate(listening: UserTurns, patch: Parameters<typeof applySettings>[1], ref: string | undefined): void {
    const before = this.settings.inputFormat;
    this.settings = applySettings(this.settings, patch, listening.heardAudio, this.replies.tools.limits());
    const after = this.settings.inputFormat;
    if (after.encoding !== before.encoding || after.sampleRateHz !== before.sampleRateHz) listening.configureInput();
    else listening.settingsChanged();
    listening.checkLanguage();
    this.sendItemEvent({ type: 'settings_updated', settings: this.settings, ref });
    this.resume.changed();
  }

  /** Listening, and what the session does with what it hears. */
  private listen(): UserTurns {
    const rules = () => turnRules(this.currentState);
    return new UserTurns(this.providers, this.config, () => this.settings, () => this.items.newTurnId(), this.lifetime.signal, {
      agentHasFloor: () => rules().agentHasFloor,
      audioIn: (ms) => this.observer.onAudio?.('in', ms),
      speechStarted: (turnId, audioOffsetMs) => (this.interruptions.speechStarted(), this.send({ type: 'speech_started', audioOffsetMs, turnId })),
      speechStopped: (turnId, audioOffsetMs) => (this.send({ type: 'speech_stopped', audioOffsetMs, turnId }), this.interruptions.speechStopped()),
      transcript: (turn, kind, pending) => {
        const text = turnText(turn);
        if (kind === 'final') this.resume.changed(); // the words of a turn being spoken survive a crash
        this.send({ type: 'transcript', turnId: turn.id, stability: kind === 'stable' ? 'stable' : 'partial', text });
        if (pending) this.replies.speculate({ id: turn.id, text, timings: turn.timings }, kind);
      },
      speechWhileAgentHasFloor: (speechMs, speechStartAt) => this.interruptions.speech(speechMs, speechStartAt),
      heardWhileAgentHasFloor: (text, final) => this.interruptions.transcript(text, final),
      earlyEndOfTurn: (turn, asked) => this.replies.speculateAtSilence({ id: turn.id, text: turnText(turn), timings: turn.timings }, asked),
      turnEnded: (turn, text) => this.items.userTurnEnded({ id: turn.id, text, timings: turn.timings }),
      error: (error) => this.reportError(error),
      background: (work) => this.background(work),
    });
  }

  // --- plumbing --------------------------------------------------------------------------------

  private sendItemEvent(event: ServerEvent): void {
    if (this.itemEvents) this.send(event);
  }

  private send(event: ServerEvent): void {
    if (this.closed || this.events.closed) return;
    this.resume.sent(event);
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
    const message = boundedMessage(error instanceof GatewayError ? error.message : `internal error: ${errorText(error)}`);
    const reason = error instanceof GatewayError && error.reason ? { reason: error.reason } : {};
    this.observer.onError?.(code, message);
    this.send({ type: 'error', code, message, sessionContinues: true, ...reason, ...(ref === undefined ? {} : { ref }) });
  }

  /** An error that ends the session. */
  private fatal(code: ErrorCode, text: string, cause: SessionEndCause): void {
    const message = boundedMessage(text);
    this.observer.onError?.(code, message);
    this.send({ type: 'error', code, message, sessionContinues: false });
    this.close(message, cause);
  }

  /**
   * Work nobody awaits (the inbound loop, an end of turn, a reply's ending) answers for its own
   * failure here: a GatewayError is the client's to hear, anything else is a bug that ends this
   * session only. The lint rule no-floating-promises (eslint.config.js) allows no other way.
   */
  private background(work: Promise<unknown>): void {
    work.catch((error: unknown) => (error instanceof GatewayError ? this.reportError(error) : this.fail(error)));
  }

  /**
   * A bug surfaced in work done for this session (by the core or by its transport): the client is
   * told, the session ends, other sessions go on.
   */
  fail(error: unknown): void {
    this.observer.onInternalError?.(error);
    if (!this.closed) this.fatal('internal', `internal error: ${errorText(error)}: the session was closed; start a new one`, 'internal_error');
  }
}
