/**
 * The one owner of replies: it starts them (early ones from a stable transcript included, through
 * the Speculator), holds the current one and the previous one, and ends them: history, the
 * `response_done` and `turn_metrics` events, and the TurnReport for observers. The session asks
 * it what phase the current reply is in (the floor, ./turn-state.ts) and tells it who
 * interrupted. It holds the session's tools (./session-tools.ts): replies call them.
 */
import type { ChatModel, Providers, SpeechSynthesizer } from '../providers/types.js';
import type { InterruptCause, ServerEvent, SessionSettings } from './events.js';
import { heardText, type ConversationHistory, type LlmRequest, type SpokenPiece } from './history.js';
import { RetryAfterGate } from './llm-retry-after.js';
import { settleEndCall } from './end-call-tool.js';
import { Reply, type ReplyOutcome, type ReplyTurn } from './reply.js';
import type { SessionConfig, SessionObserver } from './session-config.js';
import { SessionTools, TOOLS_BY_DEFAULT } from './session-tools.js';
import { heldSynthesizer, Speculator, type HoldGate, type SpeculationResult } from './speculation.js';
import { turnMetrics } from './turn-metrics.js';
import type { ReplyPhase } from './turn-state.js';
import type { AsrResult } from '../providers/types.js';

/** A reply in progress as a snapshot keeps it: enough to cut its text where the client stopped hearing. */
export interface ReplySnapshot {
  id: string;
  turnId: string;
  itemId: string;
  pieces: SpokenPiece[];
  audioSentMs: number;
  /** What the client reported played (null: none yet). */
  playedMs: number | null;
}

export interface RepliesSnapshot {
  count: number;
  active: ReplySnapshot | null;
}

/** What the owner needs from its session. */
export interface ReplyHost {
  settings(): SessionSettings;
  send(event: ServerEvent): void;
  /** An event only for clients that asked for item events. */
  sendItemEvent(event: ServerEvent): void;
  /** Work nobody awaits (a reply's run): its failure is the session's to report. */
  background(work: Promise<unknown>): void;
}

export class Replies {
  private current: Reply | null = null;
  /** The reply that ended last: a late playback report still corrects its history if it was interrupted. */
  private previous: Reply | null = null;
  /** The current reply's audio has started going out. */
  private currentSpeaking = false;
  private count = 0;
  /** The early reply of the turn the user is speaking (speculative start). */
  private readonly speculator = new Speculator();
  /** No LLM request while the server's Retry-After runs. */
  private readonly llmRetryAfter = new RetryAfterGate();
  /** The tools replies may call, and the results clients send for them. */
  readonly tools: SessionTools;

  constructor(
    private readonly providers: Providers,
    private readonly config: SessionConfig,
    private readonly history: ConversationHistory,
    private readonly observer: SessionObserver,
    private readonly host: ReplyHost,
  ) {
    this.tools = new SessionTools(config.tools ?? TOOLS_BY_DEFAULT, history, host);
  }

  get phase(): ReplyPhase {
    if (!this.current) return 'none';
    return this.currentSpeaking ? 'speaking' : 'thinking';
  }

  /** The reply in progress (generating or being played), if any. */
  get active(): Reply | null {
    return this.current;
  }

  /**
   * A reply to `turn` now, with the conversation as it is (the user's item already in it). An
   * early reply that asked the same is confirmed and goes on; any reply in progress is superseded.
   * `llm`: another source of the words than the session's LLM (`say`: ./fixed-reply.ts).
   */
  start(turn: ReplyTurn, instructions = this.host.settings().instructions, llm?: ChatModel): void {
    if (this.current) this.end(this.current.interrupt(), 'superseded');
    const request = this.history.request(instructions, this.config.llmContextTokens);
    const early: SpeculationResult = llm ? { outcome: 'none', confirmed: null } : this.speculator.resolve(turn.id, request.messages);
    if (early.outcome !== 'none') turn.timings.speculative = early.outcome;
    const reply = early.confirmed?.reply ?? this.build(turn, request, this.providers.tts, (event) => this.emit(reply, event), null, llm);
    reply.turn = turn; // an early reply heard the stable words; the report keeps the final ones
    // The reply's item takes its place now, so that items added while it runs come after it.
    reply.itemId = this.history.freeId(`reply_${this.count}`);
    const previousItemId = this.history.insert({ id: reply.itemId, role: 'assistant', text: '', origin: 'audio' });
    this.current = reply;
    this.currentSpeaking = false;
    this.host.send({ type: 'response_started', responseId: reply.id, turnId: turn.id });
    this.host.sendItemEvent({ type: 'item_added', item: this.history.get(reply.itemId), previousItemId, responseId: reply.id });
    early.confirmed?.release((event) => this.emit(reply, event));
    this.host.background(
      reply.run().then((outcome) => {
        if (this.current === reply) this.end(outcome);
      }),
    );
  }

  /**
   * A transcript of the turn the user is speaking (`text` so far): a stable one may start the
   * reply early, one with other words drops the early reply (./speculation.ts).
   */
  speculate(turn: ReplyTurn, kind: AsrResult['kind']): void {
    if (!this.config.speculativeStart || !this.host.settings().turn.autoRespond) return;
    const request = this.history.request(this.host.settings().instructions, this.config.llmContextTokens, turn.text);
    this.speculator.onTranscript(turn.id, kind, request.messages, (speculation) => {
      const reply: Reply = this.build(turn, request, heldSynthesizer(this.providers.tts, speculation.gate, (at) => reply.noteFirstAudioReady(at)), speculation.emit, speculation.gate);
      this.host.background(reply.run()); // at once: the LLM and TTS work while the user's final is awaited
      return reply;
    });
  }

  /**
   * end_of_turn_source smart_turn: the model is asked whether the user's turn is over (`asked`,
   * first at the short silence). The early reply starts there with the words so far; the decision
   * confirms it (the turn ends with the same words: `start` finds a hit). The user speaking on
   * after the question (`asked` false) drops it: it answered too little.
   */
  speculateAtSilence(turn: ReplyTurn, asked: boolean): void {
    if (!asked) return this.speculator.spokeOn(turn.id);
    if (turn.text) this.speculate(turn, 'stable');
  }

  /** The words the early reply answered are gone (the client cleared its input). */
  dropEarly(): void {
    this.speculator.cancel();
  }

  /** The client stopped the current reply (interrupt, cancel, or truncate at `heardMs`). */
  interruptByClient(heardMs?: number): ReplyOutcome | null {
    const current = this.current;
    if (!current) return null;
    const outcome = current.interrupt(heardMs);
    this.end(outcome, 'client');
    return outcome;
  }

  /** The user talked over the current reply long enough: it stops. */
  bargeIn(speechStartAt: number): void {
    const current = this.current;
    if (!current) return;
    current.bargeIn = { speechStartAt, detectedAt: performance.now() };
    this.end(current.interrupt(), 'barge_in');
  }

  /** User speech while the agent speaks (interruption_mode pause): the current reply stops sending audio; its id, or null. */
  pauseForSpeech(): string | null {
    return this.current?.pauseForSpeech() ? this.current.id : null;
  }

  /** The speech that paused reply `responseId` was no interruption: it plays on (if it is still current). */
  unpause(responseId: string): void {
    const current = this.current;
    if (current?.id !== responseId) return;
    const before = current.falseInterruptions;
    current.unpause();
    if (current.falseInterruptions > before) this.observer.onFalseInterruption?.();
  }

  /** The client has played `playedMs` of reply `responseId`. */
  playback(responseId: string, playedMs: number): void {
    if (this.current?.id === responseId) return this.current.onPlayback(playedMs);
    const previous = this.previous;
    if (previous?.id !== responseId || previous.end?.status !== 'interrupted') return; // reports on older replies change nothing
    previous.onPlayback(playedMs);
    this.history.setText(previous.itemId, previous.interrupt().heardText);
  }

  close(): void {
    this.current?.interrupt();
    this.current = null;
    this.speculator.cancel();
    this.tools.close();
  }

  // --- resume (../resume and ./session-snapshot.ts) ---------------------------------------------

  snapshot(): RepliesSnapshot {
    const reply = this.current;
    const active = reply
      ? { id: reply.id, turnId: reply.turnId, itemId: reply.itemId, pieces: reply.spokenPieces.map((p) => ({ ...p })), audioSentMs: reply.audioMs, playedMs: reply.reportedPlayedMs }
      : null;
    return { count: this.count, active };
  }

  /** Ids go on from a restored session's. */
  restore(snapshot: RepliesSnapshot): void {
    this.count = snapshot.count;
  }

  /**
   * A reply that was in progress where the session was saved cannot be produced here (its LLM
   * stream is gone): it ends interrupted, its text cut at what the client had played.
   */
  endLost(lost: ReplySnapshot, playedMs: number | undefined): void {
    const heardMs = Math.max(playedMs ?? 0, lost.playedMs ?? 0);
    const text = heardText(lost.pieces, heardMs);
    this.history.setText(lost.itemId, text, lost.pieces);
    this.host.send({ type: 'response_done', responseId: lost.id, status: 'interrupted', heardText: text, audioSentMs: Math.round(Math.min(heardMs, lost.audioSentMs)), cause: 'client' });
  }

  /** The client is gone for now: the current reply waits (it is not played meanwhile). */
  pause(): void {
    this.current?.pausePlayback();
  }

  /**
   * The client is back: the current reply goes on from where it played to, its unheard audio sent
   * again; if that audio is no longer held, it ends interrupted there.
   */
  resumeFrom(played: { responseId: string; playedMs: number } | undefined): void {
    const reply = this.current;
    if (!reply) return;
    const playedMs = played?.responseId === reply.id ? played.playedMs : (reply.reportedPlayedMs ?? 0);
    const replay = reply.resumeFrom(playedMs);
    if (!replay) return this.end(reply.interrupt(playedMs), 'client');
    this.host.send({ type: 'response_resumed', responseId: reply.id, turnId: reply.turnId, itemId: reply.itemId, playedMs: reply.reportedPlayedMs ?? playedMs, earlierText: replay.earlierText });
    for (const event of replay.events) this.host.send(event);
    // A client call the reply waits for may have been lost with the connection: it is asked again.
    for (const call of this.tools.results.pendingCalls()) this.host.send(call);
  }

  /** `gate`: an early reply's hold gate: it acts (tools) only once released. `llm`: another source of the words (`say`). */
  private build(turn: ReplyTurn, request: LlmRequest, tts: SpeechSynthesizer, emit: (event: ServerEvent) => void, gate: HoldGate | null, llm?: ChatModel): Reply {
    const settings = this.host.settings();
    const id = `resp_${++this.count}`;
    const tools = this.tools.forReply(id, settings, {
      emit: (event) => emit(event),
      mayAct: () => gate?.wait() ?? Promise.resolve(true),
      cancelReason: () => reply.end?.cause ?? 'superseded',
    });
    const reply: Reply = new Reply(
      id,
      turn,
      request.messages,
      {
        outputFormat: settings.outputFormat,
        voice: settings.voice,
        language: settings.language,
        maxPieceChars: this.config.maxPieceChars,
        temperature: this.config.llmTemperature,
        maxTokens: this.config.llmMaxTokens,
        cancelBudgetMs: this.config.cancelBudgetMs,
        replayMaxBytes: this.config.outboundQueueMaxBytes,
      },
      {
        llm: llm ?? this.llmRetryAfter.wrap(this.providers.llm),
        tts,
        emit,
        onAbandoned: (kind) => this.observer.onAbandoned?.(kind),
        onAudioSent: (ms) => this.observer.onAudio?.('out', ms),
        ...(tools ? { tools } : {}),
      },
    );
    reply.historyTrimmed = request.trimmed;
    return reply;
  }

  /** Events of a reply that is no longer current are dropped: nothing stale reaches the client. */
  private emit(reply: Reply, event: ServerEvent): void {
    if (this.current !== reply) return;
    if (event.type === 'error') this.observer.onError?.(event.code, event.message);
    if (event.type === 'response_audio') this.currentSpeaking = true;
    this.host.send(event);
  }

  private end(outcome: ReplyOutcome, cause?: InterruptCause): void {
    const reply = this.current;
    if (!reply) return;
    this.current = null;
    this.previous = reply;
    const end = reply.ended(outcome, cause);
    this.history.setText(reply.itemId, outcome.heardText, reply.spokenPieces);
    const { status, heardText, audioSentMs } = outcome;
    const cut = { heardTextEstimated: outcome.heardTextEstimated, heardMs: Math.round(outcome.heardMs), ...(reply.falseInterruptions ? { falseInterruptions: reply.falseInterruptions } : {}) };
    const endsCall = settleEndCall(reply.endCall, status, this.history, reply.toolCalls);
    this.host.send({ type: 'response_done', responseId: reply.id, status, heardText, audioSentMs: Math.round(audioSentMs), ...cut, ...(end.cause ? { cause: end.cause } : {}), ...(endsCall ? { endsCall } : {}) });
    const metrics = turnMetrics(reply.turn.id, reply.id, reply.turn.timings, reply.timings);
    this.host.send({ type: 'turn_metrics', metrics });
    const { bargeIn, historyTrimmed } = reply;
    const toolCalls = reply.toolCalls;
    this.observer.onTurn?.({
      metrics, status, turn: reply.turn.timings, reply: reply.timings, bargeIn, endedAt: performance.now(), userText: reply.turn.text, heardText, audioSentMs, end,
      ...(historyTrimmed ? { historyTrimmed } : {}),
      ...(toolCalls.length ? { toolCalls } : {}),
    });
  }
}
