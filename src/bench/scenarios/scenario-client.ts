/**
 * One scripted caller of the interruption suite, over real gRPC: a microphone that streams 20 ms
 * of audio at real-time pace (silence unless the script says something), a speaker that plays the
 * reply at real-time pace and reports its position, pausing on `response_paused` and dropping what
 * it holds past `offset_ms` on `response_unpaused`, and a log of every server event with its time,
 * which the invariants read afterwards.
 */
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { bytesFromPcm16 } from '../../audio/pcm.js';
import * as pb from '../../gen/voice/v1/voice_pb.js';

export const SCENARIO_RATE_HZ = 16000;
const MIC_CHUNK_MS = 20;
const MIC_CHUNK_SAMPLES = (SCENARIO_RATE_HZ * MIC_CHUNK_MS) / 1000;
const SPEAKER_TICK_MS = 20;
const PLAYBACK_REPORT_MS = 100;

export interface LoggedEvent {
  /** performance.now() when it arrived. */
  atMs: number;
  event: pb.ConverseResponse['event'];
}

/** What the speaker did with one reply. */
export interface PlayedReply {
  responseId: string;
  /** Audio received, contiguous from 0 (ms). */
  receivedMs: number;
  playedMs: number;
  paused: boolean;
  stopped: boolean;
  /** Each text delta and the audio position (ms) where its piece starts. */
  pieces: Array<{ text: string; startMs: number }>;
}

export class ScenarioClient {
  readonly log: LoggedEvent[] = [];
  readonly replies = new Map<string, PlayedReply>();
  readonly ended: Promise<void>;
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<pb.ConverseRequest, pb.ConverseResponse>;
  private readonly waiters: Array<{ test: (e: LoggedEvent) => boolean; resolve: (e: LoggedEvent) => void }> = [];
  private readonly mic: Int16Array[] = [];
  private micDone: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private nextMicAt = performance.now();
  private lastTickAt = performance.now();
  private lastReportAt = 0;
  private current: PlayedReply | null = null;
  private over = false;
  /** Replies to play at once (the recall: only its text matters). */
  private readonly instant = new Set<string>();

  /** Tool calls answered on their own (`answerTools`), and the result sent each time. */
  private toolAnswers: { afterMs: number; hold: Set<string> } | null = null;

  constructor(
    server: string,
    turn: { interruptionMode?: pb.InterruptionMode; falseInterruptionTimeoutMs?: number; endOfTurnSilenceMs?: number },
    /** Client tools the session offers the LLM. */
    tools: Array<{ name: string; description: string; parametersJson: string }> = [],
  ) {
    this.client = new grpc.Client(server, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    this.call = this.client.makeBidiStreamRequest(
      '/voice.v1.VoiceGateway/Converse',
      (r: pb.ConverseRequest) => Buffer.from(toBinary(pb.ConverseRequestSchema, r)),
      (b: Buffer) => fromBinary(pb.ConverseResponseSchema, b),
    );
    this.ended = new Promise<void>((resolve) => {
      this.call.on('data', (r: pb.ConverseResponse) => this.onEvent(r));
      this.call.on('end', () => resolve());
      this.call.on('error', () => resolve());
    }).finally(() => (this.over = true));
    const format = { encoding: pb.AudioEncoding.PCM16, sampleRateHz: SCENARIO_RATE_HZ };
    this.send({ case: 'start', value: { settings: { inputFormat: format, outputFormat: format, turn, ...(tools.length ? { tools: { tools } } : {}) } } });
    this.timer = setInterval(() => this.tick(), SPEAKER_TICK_MS / 2);
  }

  /** Says `pcm` (after what is queued); resolves when the last of it was sent. */
  say(pcm: Int16Array): Promise<void> {
    for (let at = 0; at < pcm.length; at += MIC_CHUNK_SAMPLES) {
      const chunk = new Int16Array(MIC_CHUNK_SAMPLES);
      chunk.set(pcm.subarray(at, at + MIC_CHUNK_SAMPLES));
      this.mic.push(chunk);
    }
    return new Promise((resolve) => this.micDone.push(resolve));
  }

  /** Sends typed text; with `instant`, its reply is "played" as soon as it arrives. */
  sendText(text: string, instant = false): void {
    if (instant) this.instantNext = true;
    this.send({ case: 'text', value: { text } });
  }
  private instantNext = false;

  /** The first event (already logged, or to come) that passes `test`; rejects after `timeoutMs`. */
  waitFor(test: (e: LoggedEvent) => boolean, timeoutMs: number, what: string, since = 0): Promise<LoggedEvent> {
    const seen = this.log.slice(since).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  /** Resolves once the current reply has played `ms` of audio (or it ended). */
  async playedAtLeast(responseId: string, ms: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const reply = this.replies.get(responseId);
      if (!reply || reply.stopped || reply.playedMs >= ms) return;
      await new Promise((r) => setTimeout(r, SPEAKER_TICK_MS));
    }
    throw new Error(`reply ${responseId} did not play ${ms} ms within ${timeoutMs} ms`);
  }

  /** From now on every tool call is answered `afterMs` after it came, except calls the script holds (`holdToolCall`). */
  answerTools(afterMs: number): void {
    this.toolAnswers = { afterMs, hold: new Set() };
  }

  /** The script answers call `callId` itself (or never). */
  holdToolCall(callId: string): void {
    this.toolAnswers?.hold.add(callId);
  }

  sendToolResult(callId: string, output: string): void {
    this.send({ case: 'toolResult', value: { callId, output } });
  }

  /** Hangs up without ending the stream cleanly (a client that goes away mid-reply). */
  drop(): void {
    clearInterval(this.timer);
    this.call.cancel();
    this.client.close();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (!this.over) this.call.end();
    await Promise.race([this.ended, new Promise((r) => setTimeout(r, 5000))]);
    this.client.close();
  }

  private send(event: MessageInitShape<typeof pb.ConverseRequestSchema>['event']): void {
    if (!this.over) this.call.write(create(pb.ConverseRequestSchema, { event }));
  }

  private tick(): void {
    const now = performance.now();
    // Microphone: real-time pace, silence when there is nothing to say.
    while (this.nextMicAt <= now) {
      const chunk = this.mic.shift() ?? new Int16Array(MIC_CHUNK_SAMPLES);
      this.send({ case: 'audio', value: { data: bytesFromPcm16(chunk) } });
      if (this.mic.length === 0 && this.micDone.length > 0) this.micDone.splice(0).forEach((done) => done());
      this.nextMicAt += MIC_CHUNK_MS;
    }
    // Speaker: plays what it holds in real time unless paused.
    const reply = this.current;
    const elapsed = now - this.lastTickAt;
    this.lastTickAt = now;
    if (reply && !reply.paused && !reply.stopped) {
      reply.playedMs = Math.min(reply.receivedMs, reply.playedMs + elapsed);
      if (now - this.lastReportAt >= PLAYBACK_REPORT_MS) this.reportPlayback(reply);
    }
  }

  private reportPlayback(reply: PlayedReply): void {
    this.lastReportAt = performance.now();
    this.send({ case: 'playback', value: { responseId: reply.responseId, playedMs: Math.floor(reply.playedMs) } });
  }

  private onEvent(response: pb.ConverseResponse): void {
    const logged: LoggedEvent = { atMs: performance.now(), event: response.event };
    this.log.push(logged);
    const e = response.event;
    switch (e.case) {
      case 'responseStarted':
        this.current = { responseId: e.value.responseId, receivedMs: 0, playedMs: 0, paused: false, stopped: false, pieces: [] };
        this.replies.set(e.value.responseId, this.current);
        if (this.instantNext) this.instant.add(e.value.responseId);
        this.instantNext = false;
        break;
      case 'responseText': {
        const reply = this.replies.get(e.value.responseId);
        // A piece's text comes just before its first audio: it starts where the audio received ends.
        reply?.pieces.push({ text: e.value.delta.trim(), startMs: reply.receivedMs });
        break;
      }
      case 'responseAudio': {
        const reply = this.replies.get(e.value.responseId);
        if (reply && !reply.stopped) reply.receivedMs = e.value.offsetMs + (e.value.data.length / 2 / SCENARIO_RATE_HZ) * 1000;
        if (reply && this.instant.has(reply.responseId)) {
          reply.playedMs = reply.receivedMs;
          this.reportPlayback(reply);
        }
        break;
      }
      case 'responsePaused': {
        const reply = this.replies.get(e.value.responseId);
        if (reply) {
          reply.paused = true;
          this.reportPlayback(reply);
        }
        break;
      }
      case 'responseUnpaused': {
        const reply = this.replies.get(e.value.responseId);
        if (reply) {
          reply.receivedMs = Math.min(reply.receivedMs, e.value.offsetMs); // what comes again replaces what is held
          reply.playedMs = Math.min(reply.playedMs, e.value.offsetMs);
          reply.paused = false;
        }
        break;
      }
      case 'toolCall': {
        const answers = this.toolAnswers;
        const { callId, name } = e.value;
        // After this tick: the script, woken by this event below, may hold the call first.
        if (answers) setTimeout(() => answers.hold.has(callId) || this.sendToolResult(callId, `${name}: done`), answers.afterMs);
        break;
      }
      case 'responseDone': {
        const reply = this.replies.get(e.value.responseId);
        if (reply) {
          if (e.value.status === pb.ResponseStatus.INTERRUPTED) {
            reply.stopped = true;
            this.reportPlayback(reply); // exactly how much was heard
          } else reply.playedMs = reply.receivedMs;
          if (this.current === reply) this.current = null;
        }
        break;
      }
      default:
        break;
    }
    for (const w of [...this.waiters]) {
      if (w.test(logged)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(logged);
      }
    }
  }
}
