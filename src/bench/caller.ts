/**
 * One bench caller: a voice.v1 conversation (src/client/conversation.ts, which listens as a person
 * does: plays replies at real-time pace, reports playback, drops interrupted audio) whose
 * microphone, driven by the shared MicClock, says the utterance and then stays open with silence;
 * it speaks again `pauseMs` after each reply ends, or, when barging in, `bargeInAfterMs` after a
 * reply's first audio. It measures at the client, from the moments a real microphone would have
 * had the audio:
 * - voice to voice: end of speech in the sent audio -> first audio of the reply received;
 * - barge-in: speech onset -> last audio of the interrupted reply received, and -> its
 *   response_done{interrupted}.
 */
import * as pb from '../gen/voice/v1/voice_pb.js';
import { Conversation } from '../client/conversation.js';
import { ReplyPlayer } from '../client/reply-player.js';
import type { ClientTools } from '../client/tool-command.js';
import type { TurnWindows } from './expected-latency.js';
import type { MicClock, MicListener } from './mic-clock.js';
import { UTTERANCE_RATE_HZ, type Utterance } from './utterance.js';

/** The utterance cut into microphone chunks once, for every caller. */
export class CallerAudio {
  readonly utteranceChunks: Int16Array[];
  readonly silenceChunk: Int16Array;

  constructor(
    readonly utterance: Utterance,
    readonly chunkMs: number,
  ) {
    const samples = Math.round((UTTERANCE_RATE_HZ * chunkMs) / 1000);
    this.utteranceChunks = [];
    for (let at = 0; at < utterance.pcm.length; at += samples) {
      const chunk = new Int16Array(samples); // the last one padded with silence: every chunk is chunkMs long
      chunk.set(utterance.pcm.subarray(at, at + samples));
      this.utteranceChunks.push(chunk);
    }
    this.silenceChunk = new Int16Array(samples);
  }
}

export interface CallerPlan {
  server: string;
  audio: CallerAudio;
  /** Silence after a reply ended before speaking again. */
  pauseMs: number;
  /** Speak again this long after a reply's first audio (barge in), or null to let replies finish. */
  bargeInAfterMs: number | null;
  /** Declare a tool that answers after this long (the simulated LLM calls it once a turn), or null. */
  toolLatencyMs: number | null;
  /** Utterances to say at most (null: until `stopAt`). */
  maxTurns: number | null;
  /** No utterance starts after this moment (performance.now() ms). */
  stopAt: number;
  /** A reply that has not ended this long after the end of speech is an error. */
  replyTimeoutMs: number;
}

/** One answered turn, recorded when its turn_metrics come (after its reply ended). */
export interface TurnSample {
  /** Client-measured voice to voice. */
  voiceToVoiceMs: number;
  /** The gateway's own voice_to_voice_ms (turn_metrics), for comparison. */
  serverVoiceToVoiceMs: number | null;
  /** Whether the reply started early on the stable interim (and the final agreed). */
  speculative: 'hit' | 'miss' | 'none';
  /** When the speech ended (performance.now() ms). */
  at: number;
}

export interface CallerRecorder {
  turn(sample: TurnSample): void;
  bargeIn(sample: { toLastAudioMs: number; toDoneMs: number } | 'missed', at: number): void;
  error(code: string, message: string): void;
  sendLag(ms: number): void;
}

interface Turn {
  speechEndAt: number;
  responseId?: string;
  firstAudioAt?: number;
  voiceToVoiceMs?: number;
}

interface BargeIn {
  responseId: string;
  onsetAt: number;
  lastAudioAt: number;
}

const READY_TIMEOUT_MS = 15_000;
/** After the client ended its side, the gateway has this long to end the call. */
const END_GRACE_MS = 5000;

export class Caller implements MicListener {
  private conversation: Conversation | undefined;
  private position: number | null = null;
  private nextUtteranceAt: number | null = null;
  private spoken = 0;
  private readonly turns: Turn[] = [];
  private currentResponse: string | null = null;
  private readonly lastAudioAt = new Map<string, number>();
  private bargeIns: BargeIn[] = [];
  private replyTimer: NodeJS.Timeout | undefined;
  private ending = false;
  private resolveDone!: () => void;
  /** Settles when the conversation is over, whatever the reason. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly plan: CallerPlan,
    private readonly clock: MicClock,
    private readonly recorder: CallerRecorder,
  ) {}

  /** Opens the session; resolves with its turn settings once `ready` came, then starts speaking. */
  async start(): Promise<TurnWindows> {
    let onReady!: (windows: TurnWindows) => void;
    let onFailed!: (error: Error) => void;
    const ready = new Promise<TurnWindows>((resolve, reject) => ([onReady, onFailed] = [resolve, reject]));
    const conversation = new Conversation({
      server: this.plan.server,
      inputSampleRateHz: UTTERANCE_RATE_HZ,
      outputSampleRateHz: UTTERANCE_RATE_HZ,
      // A listener with no speaker: it plays at real-time pace and reports playback, keeps nothing.
      player: new ReplyPlayer(UTTERANCE_RATE_HZ, { keepHeard: false }),
      ownConnection: true,
      ...(this.plan.toolLatencyMs === null ? {} : { tools: benchTool(this.plan.toolLatencyMs) }),
      onEvent: (response) => {
        if (response.event.case !== 'ready') return this.onEvent(response);
        try {
          onReady(windowsOf(response.event.value.settings));
        } catch (error) {
          onFailed(error as Error);
        }
      },
    });
    this.conversation = conversation;
    conversation.ended.then(
      () => {
        onFailed(new Error('the gateway ended the session before "ready"')); // no-op after ready
        this.finish();
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        onFailed(new Error(`the session failed: ${failure.message}`));
        if (!this.ending) this.recorder.error('session_failed', failure.message);
        this.finish();
      },
    );
    const timer = setTimeout(() => onFailed(new Error(`no "ready" from ${this.plan.server} within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    try {
      const windows = await ready;
      this.nextUtteranceAt = performance.now();
      this.clock.add(this);
      return windows;
    } finally {
      clearTimeout(timer);
    }
  }

  tick(dueAt: number): void {
    const conversation = this.conversation;
    if (!conversation || this.ending) return;
    const { audio } = this.plan;
    const chunkStart = dueAt - audio.chunkMs;
    if (this.position === null && this.nextUtteranceAt !== null && chunkStart >= this.nextUtteranceAt - 0.5) this.beginUtterance(chunkStart);
    let pcm = audio.silenceChunk;
    if (this.position !== null) {
      pcm = audio.utteranceChunks[this.position]!;
      this.position = this.position + 1 < audio.utteranceChunks.length ? this.position + 1 : null;
    }
    conversation.sendAudio(pcm);
    this.recorder.sendLag(performance.now() - dueAt);
    if (this.position === null && this.nextUtteranceAt === null && this.currentResponse === null && this.isLastTurnDone()) this.end();
  }

  /** Stops now: ends the conversation (the gateway closes the session). */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    this.clock.remove(this);
    clearTimeout(this.replyTimer);
    this.conversation?.close().catch(() => undefined); // a failure was recorded by `ended`
    // A gateway that never closes the call must not hold the bench.
    setTimeout(() => this.resolveDone(), this.conversation ? END_GRACE_MS : 0).unref();
  }

  private beginUtterance(chunkStart: number): void {
    const { utterance } = this.plan.audio;
    const allowed = chunkStart < this.plan.stopAt && (this.plan.maxTurns === null || this.spoken < this.plan.maxTurns);
    this.nextUtteranceAt = null;
    if (!allowed) return;
    this.spoken++;
    this.position = 0;
    const onsetAt = chunkStart + utterance.speechStartMs;
    if (this.currentResponse !== null) {
      this.bargeIns.push({ responseId: this.currentResponse, onsetAt, lastAudioAt: this.lastAudioAt.get(this.currentResponse) ?? onsetAt });
    }
    const turn: Turn = { speechEndAt: chunkStart + utterance.speechEndMs };
    this.turns.push(turn);
    clearTimeout(this.replyTimer);
    this.replyTimer = setTimeout(() => this.onReplyTimeout(turn), utterance.speechEndMs + this.plan.replyTimeoutMs);
  }

  private onEvent(response: pb.ConverseResponse): void {
    const now = performance.now();
    const event = response.event;
    switch (event.case) {
      case 'responseStarted': {
        const turn = this.turns.findLast((t) => t.responseId === undefined);
        if (turn) turn.responseId = event.value.responseId;
        this.currentResponse = event.value.responseId;
        break;
      }
      case 'responseAudio': {
        const id = event.value.responseId;
        this.lastAudioAt.set(id, now);
        for (const b of this.bargeIns) if (b.responseId === id && now > b.onsetAt) b.lastAudioAt = now;
        const turn = this.turns.find((t) => t.responseId === id);
        if (turn && turn.firstAudioAt === undefined) {
          turn.firstAudioAt = now;
          turn.voiceToVoiceMs = now - turn.speechEndAt;
          if (this.plan.bargeInAfterMs !== null) this.nextUtteranceAt = now + this.plan.bargeInAfterMs;
        }
        break;
      }
      case 'responseDone':
        this.onResponseDone(event.value, now);
        break;
      case 'turnMetrics': {
        const turn = this.turns.find((t) => t.responseId === event.value.responseId);
        if (turn?.voiceToVoiceMs === undefined) break;
        const { voiceToVoiceMs, speculative } = event.value;
        this.recorder.turn({
          voiceToVoiceMs: turn.voiceToVoiceMs,
          serverVoiceToVoiceMs: voiceToVoiceMs > 0 ? voiceToVoiceMs : null,
          speculative: speculative === pb.SpeculativeOutcome.HIT ? 'hit' : speculative === pb.SpeculativeOutcome.MISS ? 'miss' : 'none',
          at: turn.speechEndAt,
        });
        turn.voiceToVoiceMs = undefined; // recorded once
        break;
      }
      case 'error':
        this.recorder.error(pb.ErrorCode[event.value.code] ?? String(event.value.code), event.value.message);
        break;
      default:
        break;
    }
  }

  private onResponseDone(done: pb.ResponseDone, now: number): void {
    const id = done.responseId;
    const interrupted = done.status === pb.ResponseStatus.INTERRUPTED;
    for (const b of this.bargeIns.filter((x) => x.responseId === id)) {
      this.recorder.bargeIn(interrupted ? { toLastAudioMs: Math.max(0, b.lastAudioAt - b.onsetAt), toDoneMs: now - b.onsetAt } : 'missed', b.onsetAt);
    }
    this.bargeIns = this.bargeIns.filter((x) => x.responseId !== id);
    this.lastAudioAt.delete(id);
    if (this.currentResponse !== id) return;
    this.currentResponse = null;
    // Not interrupted by us: the next utterance follows the reply (a barge-in one may be set already).
    if (this.position === null && this.nextUtteranceAt === null) this.nextUtteranceAt = now + this.plan.pauseMs;
    if (this.turns.every((t) => t.responseId !== undefined)) clearTimeout(this.replyTimer);
  }

  private onReplyTimeout(turn: Turn): void {
    if (this.ending || turn.firstAudioAt !== undefined) return;
    this.recorder.error('no_reply', `no reply audio within ${this.plan.replyTimeoutMs} ms of the end of speech`);
    turn.responseId ??= 'none';
    if (this.currentResponse === null && this.position === null) this.nextUtteranceAt ??= performance.now() + this.plan.pauseMs;
  }

  private isLastTurnDone(): boolean {
    const last = this.turns.at(-1);
    const outOfTurns = performance.now() >= this.plan.stopAt || (this.plan.maxTurns !== null && this.spoken >= this.plan.maxTurns);
    return outOfTurns && (last === undefined || last.responseId !== undefined);
  }

  private finish(): void {
    if (!this.ending) {
      this.ending = true;
      this.clock.remove(this);
      clearTimeout(this.replyTimer);
    }
    this.resolveDone();
  }
}

/** A lookup that answers after `latencyMs`, like a backend a voice agent asks. */
function benchTool(latencyMs: number): ClientTools {
  return {
    declarations: [{ name: 'bench_lookup', description: 'Looks up the answer to the question', parametersJson: JSON.stringify({ type: 'object', properties: { query: { type: 'string' } }, required: ['query'] }), timeoutMs: 0 }],
    run: (_call, signal) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ output: 'The answer is 42.', isError: false }), latencyMs);
        signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      }),
  };
}

function windowsOf(settings: pb.SessionSettings | undefined): TurnWindows {
  const turn = settings?.turn;
  if (!turn) throw new Error('the gateway\'s "ready" carried no turn settings');
  if (turn.endOfTurnSource === pb.EndOfTurnSource.COMMIT) throw new Error('the gateway ends turns on commit (push-to-talk): the bench speaks, run it with TURN_END_SOURCE=vad or asr');
  return {
    endOfTurnSource: turn.endOfTurnSource === pb.EndOfTurnSource.ASR ? 'asr' : 'vad',
    endOfTurnSilenceMs: turn.endOfTurnSilenceMs,
    bargeInMinSpeechMs: turn.bargeInDisabled ? 0 : turn.bargeInMinSpeechMs,
  };
}
