/**
 * Listening: the user's side of the conversation. It owns the input audio (decoding, VAD framing,
 * the recognizer stream and its flush), the turn the user is speaking, when speech started and how
 * much audio came since the last end of turn. It asks the session one question (does the agent
 * hold the floor?) and tells it what happened through `UserTurnHooks`; it decides nothing about
 * replies. The session (./session.ts) answers the hooks.
 */
import { decodeAudio } from '../audio/codec.js';
import { AudioFormatError, durationMs } from '../audio/pcm.js';
import type { AsrResult, AsrStream, Providers } from '../providers/types.js';
import { settlesWithin } from './abortable.js';
import { GatewayError, type SessionSettings } from './events.js';
import { ListeningInput } from './input-rates.js';
import { SmartTurnListener, smartTurnFailed, smartTurnMissing } from './smart-turn-listener.js';
import { MIN_COMMIT_AUDIO_MS } from './turn-config.js';
import type { TurnTimings } from './turn-metrics.js';
import type { VadSegmenterSettings } from './vad-segmenter.js';
import { VoiceActivity } from './voice-activity.js';

/** What ends a user's turn; `max_length`: it reached TURN_MAX_SPEECH_MS. */
export type TurnEndSource = 'asr' | 'vad' | 'commit' | 'max_length' | 'smart_turn';

/** The turn the user is speaking: its id (also its item's), its words so far and its moments. */
export interface PendingTurn {
  id: string;
  finals: string[];
  partial: string;
  timings: TurnTimings;
  /** Input audio time (ms) when the turn began: TURN_MAX_SPEECH_MS counts from it. */
  startOffsetMs: number;
}

/** What listening tells the session. Hooks run synchronously, in audio order. */
export interface UserTurnHooks {
  /** The one question: does the agent hold the floor (a reply is thinking or speaking)? */
  agentHasFloor(): boolean;
  /** Input audio of `durationMs` came in (for observers). */
  audioIn(durationMs: number): void;
  speechStarted(turnId: string, audioOffsetMs: number): void;
  speechStopped(turnId: string, audioOffsetMs: number): void;
  /**
   * The recognizer's words so far for `turn` (the text of the whole turn). `pending`: it is the
   * turn still being spoken (not one being flushed after its end).
   */
  transcript(turn: PendingTurn, kind: AsrResult['kind'], pending: boolean): void;
  /** The user has been speaking `speechMs` (started at `speechStartAt`) while the agent holds the floor. */
  speechWhileAgentHasFloor(speechMs: number, speechStartAt: number): void;
  /** The recognizer heard `text` while the agent holds the floor (pause-then-decide reads it). */
  heardWhileAgentHasFloor(text: string, final: boolean): void;
  /** smart_turn: the model is asked if `turn` is over (`asked`: a reply may start early), or the user spoke on after it was. */
  earlyEndOfTurn(turn: PendingTurn, asked: boolean): void;
  /** The user's turn ended with words (`text`); an end with none reports nothing (a commit throws). */
  turnEnded(turn: PendingTurn, text: string, source: TurnEndSource): void;
  /** A problem the session survives (the recognizer failed or cannot do the language). */
  error(error: GatewayError): void;
  /** Work nobody awaits (an end of turn): its failure is the session's to report. */
  background(work: Promise<unknown>): void;
}

/** The session's settings that listening uses. */
export interface ListeningConfig {
  vad: VadSegmenterSettings;
  asrFinalWaitMs: number;
  turnMaxSpeechMs: number;
  /** With smart_turn: the model probability at or above which the turn is complete. */
  smartTurnThreshold: number;
}

export class UserTurns {
  private readonly voice: VoiceActivity;
  /** The input's way to the recognizer (and the VAD): its rates and resampler. */
  private input: ListeningInput;
  /** The recognizer cannot transcribe the session's language (see checkLanguage). */
  private languageUnsupported = false;
  private inputOffsetMs = 0;
  private asr: AsrStream | null = null;
  /** Each recognizer stream's own signal: aborted when its words are no longer wanted. */
  private readonly asrAborts = new WeakMap<AsrStream, AbortController>();
  private asrDone: Promise<void> = Promise.resolve();
  private flushing: { stream: AsrStream; turn: PendingTurn } | null = null;
  private pendingTurn: PendingTurn | null = null;
  /** Input audio (ms) since the last end of turn or clear: a commit needs some. */
  private uncommittedMs = 0;
  /** When the latest stretch of user speech started (performance.now() ms). */
  private speechStartAt: number | undefined;
  /** The turn the latest stretch of user speech belongs to. */
  private speechTurnId = '';
  private closed = false;
  /** end_of_turn_source smart_turn: made by the first audio that needs it. */
  private smartTurn: SmartTurnListener | null = null;
  /** The session asked for smart_turn and the server has no model: said once, silence decides. */
  private smartTurnMissingSaid = false;

  constructor(
    private readonly providers: Providers,
    private readonly config: ListeningConfig,
    private readonly settings: () => SessionSettings,
    /** A free id for a new turn (it is also its user item's id). */
    private readonly newTurnId: () => string,
    /** Aborted when the session closes: ends the recognizer stream. */
    private readonly lifetime: AbortSignal,
    private readonly hooks: UserTurnHooks,
  ) {
    this.voice = new VoiceActivity(providers.vad, config.vad);
    this.input = new ListeningInput(settings().inputFormat.sampleRateHz, providers.asr, providers.vad);
  }

  /** VAD hears the user now. */
  get userSpeaking(): boolean {
    return this.voice.speaking;
  }

  /** Audio has come in (the input format can no longer change). */
  get heardAudio(): boolean {
    return this.inputOffsetMs > 0;
  }

  /**
   * `id` belongs to the turn being spoken or to the one being ended (waiting for the recognizer's
   * final): a client's new item may not take it.
   */
  turnIdTaken(id: string): boolean {
    return id === this.pendingTurn?.id || id === this.flushing?.turn.id;
  }

  /** A user turn is being spoken, or ended and waiting for the recognizer's final. */
  get turnInProgress(): boolean {
    return this.pendingTurn !== null || this.flushing !== null;
  }

  /** The turn being spoken and its words so far, for a snapshot (./session-snapshot.ts). */
  snapshot(): { id: string; text: string } | null {
    const turn = this.pendingTurn;
    return turn ? { id: turn.id, text: turnText(turn) } : null;
  }

  /** The client went away mid-turn and is back: the turn ends with what was recognized. */
  finishTurn(): Promise<void> {
    return this.endTurn('vad');
  }

  /** Input rate for VAD and recognizer, and the VAD threshold; resamplers come with the first audio that needs one. */
  configureInput(): void {
    this.input.close();
    this.input = new ListeningInput(this.settings().inputFormat.sampleRateHz, this.providers.asr, this.providers.vad);
    this.voice.setInputRate(this.input.route.vadHearsAsrAudio ? this.input.route.asrRateHz : this.input.inputRateHz);
    this.voice.setThreshold(this.settings().turn.vadThreshold);
    this.checkTurnSource();
  }

  /** The settings changed without a new input format. */
  settingsChanged(): void {
    this.voice.setThreshold(this.settings().turn.vadThreshold);
    this.checkTurnSource();
  }

  /** smart_turn without a model loaded is said once; the turn then ends on silence (as vad). */
  checkTurnSource(): void {
    if (this.settings().turn.endOfTurnSource !== 'smart_turn' || this.providers.turn || this.smartTurnMissingSaid) return;
    this.smartTurnMissingSaid = true;
    this.hooks.error(smartTurnMissing());
  }

  /** The Smart Turn listener when this session's turns end by the model, else null. */
  private smartTurnListener(): SmartTurnListener | null {
    const model = this.providers.turn;
    if (this.settings().turn.endOfTurnSource !== 'smart_turn' || !model) return null;
    return (this.smartTurn ??= new SmartTurnListener(model, () => ({ silenceMs: this.settings().turn.endOfTurnSilenceMs, maxSilenceMs: this.settings().turn.endOfTurnMaxSilenceMs, threshold: this.config.smartTurnThreshold }), {
      decided: (decision) => {
        if (this.closed) return;
        if (decision.kind === 'end') this.hooks.background(this.endTurn('smart_turn'));
        else this.hooks.error(smartTurnFailed(decision.error));
      },
      early: (asked) => this.pendingTurn && !this.closed && this.hooks.earlyEndOfTurn(this.pendingTurn, asked),
    }));
  }

  async push(data: Uint8Array): Promise<void> {
    const { inputFormat } = this.settings();
    let pcm: Int16Array;
    try {
      pcm = decodeAudio(data, inputFormat.encoding);
    } catch (error) {
      if (error instanceof AudioFormatError) throw new GatewayError('invalid_argument', `${error.message}; the chunk was dropped`);
      throw error;
    }
    const chunkMs = durationMs(pcm.length, inputFormat.sampleRateHz);
    this.inputOffsetMs += chunkMs;
    this.uncommittedMs += chunkMs;
    this.hooks.audioIn(chunkMs);
    const shared = this.input.route.vadHearsAsrAudio;
    let atAsrRate: Int16Array | null = pcm;
    if (!this.languageUnsupported || shared) {
      atAsrRate = await this.input.forAsr(pcm);
      if (this.closed || !atAsrRate) return;
      if (!this.languageUnsupported) this.ensureAsr()?.write(atAsrRate);
    }
    const smartTurn = this.smartTurnListener();
    if (smartTurn) await smartTurn.push(pcm, inputFormat.sampleRateHz);
    if (this.closed) return;
    await this.voice.push(shared ? atAsrRate : pcm, (edge) => {
      if (this.closed) return false;
      if (edge?.type === 'speech_start') this.speechStarted(edge.offsetMs);
      if (edge?.type === 'speech_end') this.hooks.speechStopped(this.speechTurnId, Math.round(edge.offsetMs)); // the turn may have ended already: the id speech started with
      // Recognizers that transcribe utterance by utterance cut them at these edges.
      if (edge) this.asr?.speech?.({ type: edge.type === 'speech_start' ? 'start' : 'end', msAgo: Math.max(0, this.inputOffsetMs - edge.offsetMs) });
      if (this.hooks.agentHasFloor() && this.voice.speechMs > 0) this.hooks.speechWhileAgentHasFloor(this.voice.speechMs, this.speechStartAt ?? performance.now());
      this.checkVadEndOfTurn();
      if (smartTurn && !this.hooks.agentHasFloor()) smartTurn.onVoice(this.voice.speaking, this.voice.silenceMs, !!this.pendingTurn && this.voice.lastVoicedAt !== undefined);
      return true;
    });
    this.checkTurnLength();
  }

  /** The client committed the turn (push-to-talk): it ends now, with whatever was heard. */
  commit(): Promise<void> {
    if (this.uncommittedMs < MIN_COMMIT_AUDIO_MS) {
      throw new GatewayError('failed_precondition', `commit came after ${Math.round(this.uncommittedMs)} ms of audio since the last turn: send at least ${MIN_COMMIT_AUDIO_MS} ms of audio first`, 'input_empty');
    }
    return this.endTurn('commit');
  }

  /** Drops the user's audio since the last end of turn: the turn in progress and its words. */
  clear(): void {
    this.smartTurn?.reset();
    this.pendingTurn = null;
    this.uncommittedMs = 0;
    const stream = this.asr;
    this.asr = null; // its results are dropped from now on (turnForAsr)
    // Its words are not wanted: the requests stop before the end would send the utterance.
    if (stream) this.asrAborts.get(stream)?.abort();
    stream?.end();
  }

  close(): void {
    this.closed = true;
    this.smartTurn?.close();
    this.voice.close();
    this.input.close();
  }

  /**
   * A language the recognizer cannot transcribe is said once; audio then only feeds VAD (speech
   * events, barge-in) and the user types. Without this, every audio chunk would open a recognizer
   * stream that fails at once, one error event per chunk.
   */
  checkLanguage(): void {
    const { language } = this.settings();
    const supported = this.providers.asr.supportsLanguage?.(language) ?? true;
    if (supported === !this.languageUnsupported) return;
    this.languageUnsupported = !supported;
    if (supported) return;
    this.asr?.end();
    this.hooks.error(
      new GatewayError('asr_unavailable', `speech recognition does not support language "${language}": audio is not transcribed in this session (speech still interrupts replies); send typed text, or start a session in a language the recognizer supports`),
    );
  }

  private speechStarted(offsetMs: number): void {
    this.speechStartAt = performance.now();
    this.pendingTurn ??= this.newTurn();
    this.pendingTurn.timings.speechStartAt ??= this.speechStartAt;
    this.speechTurnId = this.pendingTurn.id;
    this.hooks.speechStarted(this.speechTurnId, Math.max(0, Math.round(offsetMs - this.settings().turn.prefixPaddingMs)));
  }

  private checkVadEndOfTurn(): void {
    const { turn } = this.settings();
    const voice = this.voice;
    const silenceEnds = turn.endOfTurnSource === 'vad' || (turn.endOfTurnSource === 'smart_turn' && !this.providers.turn);
    if (!silenceEnds || !this.pendingTurn || voice.speaking || this.hooks.agentHasFloor()) return;
    if (voice.lastVoicedAt === undefined || voice.silenceMs < turn.endOfTurnSilenceMs) return;
    this.hooks.background(this.endTurn('vad'));
  }

  /**
   * A turn that has lasted TURN_MAX_SPEECH_MS is ended and answered: each partial transcript
   * repeats the whole turn, so a turn without end (a tone, a stuck microphone) would grow the
   * session's memory and CPU without bound.
   */
  private checkTurnLength(): void {
    const turn = this.pendingTurn;
    if (!turn || this.hooks.agentHasFloor() || this.inputOffsetMs - turn.startOffsetMs < this.config.turnMaxSpeechMs) return;
    this.hooks.background(this.endTurn('max_length'));
  }

  private newTurn(): PendingTurn {
    return { id: this.newTurnId(), finals: [], partial: '', timings: {}, startOffsetMs: this.inputOffsetMs };
  }

  private async endTurn(source: TurnEndSource): Promise<void> {
    // Push-to-talk may commit before VAD or the recognizer noticed anything.
    const turn = source === 'commit' ? (this.pendingTurn ??= this.newTurn()) : this.pendingTurn;
    if (!turn) return;
    this.pendingTurn = null; // new speech from here on belongs to the next turn
    this.smartTurn?.reset();
    this.uncommittedMs = 0;
    turn.timings.speechEndAt = this.voice.lastVoicedAt;
    turn.timings.turnEndedAt = performance.now();
    if (source === 'commit' || source === 'max_length' || ((source === 'vad' || source === 'smart_turn') && (turn.partial || this.asr?.awaitingFinal))) await this.flushAsr(turn);
    const text = turnText(turn);
    if (!text) {
      if (source === 'commit') throw new GatewayError('failed_precondition', 'no words were recognized in the committed audio: nothing was added to the conversation', 'nothing_heard');
      return;
    }
    this.hooks.turnEnded(turn, text, source);
  }

  // --- the recognizer --------------------------------------------------------------------------

  /** The recognizer stream, opened when audio needs it (again after a commit or a failure). */
  private ensureAsr(): AsrStream | null {
    if (this.languageUnsupported) return null;
    if (this.asr) return this.asr;
    const abort = new AbortController();
    const stream = this.providers.asr.stream({ language: this.settings().language, sampleRateHz: this.input.route.asrRateHz }, AbortSignal.any([this.lifetime, abort.signal]));
    this.asrAborts.set(stream, abort);
    this.asr = stream;
    this.asrDone = this.consumeAsr(stream);
    // Opened in the middle of speech (after a commit or a failure): the utterance starts here.
    if (this.voice.speaking) stream.speech?.({ type: 'start', msAgo: 0 });
    return stream;
  }

  private async consumeAsr(stream: AsrStream): Promise<void> {
    try {
      for await (const result of stream) {
        if (this.closed) return;
        if (!result.text.trim()) continue;
        // First: words that make it a barge-in give the floor back, and then belong to the user's turn.
        if (stream === this.asr && !this.flushing && this.hooks.agentHasFloor()) this.hooks.heardWhileAgentHasFloor(result.text.trim(), result.kind === 'final');
        const turn = this.turnForAsr(stream);
        if (!turn) continue; // the agent holds the floor and nobody barged in: echo or noise
        if (result.kind === 'final') {
          turn.finals.push(result.text.trim());
          turn.partial = '';
          turn.timings.asrFinalAt = performance.now();
        } else {
          turn.partial = result.text.trim();
        }
        const pending = turn === this.pendingTurn;
        this.hooks.transcript(turn, result.kind, pending);
        if (result.kind === 'final' && pending && this.settings().turn.endOfTurnSource === 'asr') this.hooks.background(this.endTurn('asr'));
      }
    } catch (error: unknown) {
      if (this.closed) return;
      this.hooks.error(new GatewayError('asr_unavailable', `speech recognition failed: ${error instanceof Error ? error.message : String(error)}; it restarts with the next audio`));
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
    if (this.hooks.agentHasFloor()) return null;
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
    // Past the wait its words are dropped (turnForAsr), so its requests stop too.
    if (!(await settlesWithin(this.asrDone, this.config.asrFinalWaitMs))) this.asrAborts.get(stream)?.abort();
    if (this.flushing?.stream === stream) this.flushing = null;
  }
}

/** The words of a turn so far: its finals, then the partial after them. */
export function turnText(turn: PendingTurn): string {
  return [...turn.finals, turn.partial].filter(Boolean).join(' ');
}
