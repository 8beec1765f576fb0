/**
 * A bench caller that phones in: it speaks the Twilio Media Streams protocol, Asterisk's
 * WebSocket channel or jambonz's `listen` stream to the gateway's HTTP port, as a carrier would,
 * sending the utterance as 8 kHz audio (mu-law; L16 for jambonz) in 20 ms messages at real-time
 * pace (driven by the shared MicClock) and playing the reply as the carrier does (Twilio: queued,
 * marks echoed once played, `clear` drops it; Asterisk and jambonz: 20 ms per 20 ms, FLUSH_MEDIA
 * or killAudio drops it). A carrier sees no turn events, so it measures from the audio: voice to
 * voice is the end of speech in the sent audio -> the first reply audio after it; barge-in is the
 * interrupting speech's onset -> the `clear` (Twilio), FLUSH_MEDIA (Asterisk) or killAudio
 * (jambonz), and -> the last reply audio before it.
 */
import { WebSocket, type RawData } from 'ws';
import { encodeG711 } from '../audio/g711.js';
import { resampleAll } from '../audio/resampler.js';
import type { TurnWindows } from './expected-latency.js';
import type { CallerRecorder, TurnSample } from './caller.js';
import type { MicClock, MicListener } from './mic-clock.js';
import { UTTERANCE_RATE_HZ, type Utterance } from './utterance.js';

export type PhoneTransport = 'twilio' | 'asterisk' | 'jambonz';
export const PHONE_PATHS: Record<PhoneTransport, string> = { twilio: '/v1/telephony/twilio', asterisk: '/v1/telephony/asterisk', jambonz: '/v1/telephony/jambonz' };
const SUBPROTOCOLS: Record<PhoneTransport, string[]> = { twilio: [], asterisk: ['media'], jambonz: ['audio.jambonz.org'] };

const RATE_HZ = 8000;
const FRAME_MS = 20;
const FRAME_BYTES = 160; // 20 ms of 8 kHz mu-law
const L16_FRAME_BYTES = 320; // 20 ms of 8 kHz 16-bit PCM (jambonz)
const MULAW_SILENCE = 0xff;
/** A reply is over when nothing of it is left to play and no audio came for this long. */
const REPLY_GAP_MS = 300;
const READY_TIMEOUT_MS = 15_000;
const END_GRACE_MS = 5000;

/** The utterance as the phone network carries it: 20 ms frames of 8 kHz mu-law (and L16 for jambonz), made once for every caller. */
export class PhoneAudio {
  private constructor(
    readonly utterance: Utterance,
    readonly frames: Uint8Array[],
    readonly silence: Uint8Array,
    readonly l16Frames: Uint8Array[],
    readonly l16Silence: Uint8Array,
  ) {}

  static async create(utterance: Utterance): Promise<PhoneAudio> {
    const pcm = await resampleAll(utterance.pcm, UTTERANCE_RATE_HZ, RATE_HZ);
    const l16 = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength); // little-endian, as the machines this runs on
    const mulawFrames = framesOf(encodeG711(pcm, 'mulaw'), FRAME_BYTES, MULAW_SILENCE);
    return new PhoneAudio(utterance, mulawFrames, new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE), framesOf(l16, L16_FRAME_BYTES, 0), new Uint8Array(L16_FRAME_BYTES));
  }
}

/** `audio` cut into frames of `frameBytes`, the last one filled up with silence. */
function framesOf(audio: Uint8Array, frameBytes: number, silenceByte: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < audio.length; at += frameBytes) {
    const frame = new Uint8Array(frameBytes).fill(silenceByte);
    frame.set(audio.subarray(at, at + frameBytes));
    frames.push(frame);
  }
  return frames;
}

export interface PhoneCallerPlan {
  transport: PhoneTransport;
  /** ws://host:port of the gateway's HTTP port. */
  wsBase: string;
  audio: PhoneAudio;
  /** The gateway's turn settings (a carrier is not told them). */
  windows: TurnWindows;
  /** Every turn's speculative outcome, as the profile predicts it (a carrier cannot see it). */
  speculative: TurnSample['speculative'];
  pauseMs: number;
  bargeInAfterMs: number | null;
  maxTurns: number | null;
  stopAt: number;
  replyTimeoutMs: number;
}

interface Turn {
  speechEndAt: number;
  onsetAt: number;
  firstAudioAt?: number;
}

type Queued = { bytes: Uint8Array } | { mark: string };

export class PhoneCaller implements MicListener {
  private ws: WebSocket | undefined;
  private readonly streamSid = `MZbench${Math.random().toString(16).slice(2, 14)}`;
  private position: number | null = null;
  private nextUtteranceAt: number | null = null;
  private spoken = 0;
  private readonly turns: Turn[] = [];
  /** The turn whose reply is being received or played. */
  private replying: Turn | null = null;
  /** The utterance that is talking over the current reply, if any. */
  private interrupting: Turn | null = null;
  private lastAudioAt = 0;
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private replyTimer: NodeJS.Timeout | undefined;
  private ending = false;
  private resolveDone!: () => void;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly plan: PhoneCallerPlan,
    private readonly clock: MicClock,
    private readonly recorder: CallerRecorder,
  ) {}

  async start(): Promise<TurnWindows> {
    const ws = new WebSocket(`${this.plan.wsBase}${PHONE_PATHS[this.plan.transport]}`, SUBPROTOCOLS[this.plan.transport]);
    this.ws = ws;
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(toBuffer(data), isBinary));
    ws.on('error', () => undefined);
    ws.once('close', (code: number, reason: Buffer) => {
      // Before the caller is done, even a clean close (or Asterisk's HANGUP) is the gateway hanging up on it.
      if (!this.ending) this.recorder.error(code === 1000 ? 'hung_up' : 'call_closed', `the gateway ${code === 1000 ? 'hung up' : 'closed'} the call (${code}) after ${this.spoken} utterances: ${reason.toString() || 'no reason given'}`);
      this.finish();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no WebSocket within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      ws.once('open', () => (clearTimeout(timer), resolve()));
      ws.once('close', () => (clearTimeout(timer), reject(new Error('the gateway closed the socket before it opened'))));
    });
    if (this.plan.transport === 'twilio') {
      this.sendJson({ event: 'connected', protocol: 'Call', version: '1.0.0' });
      this.sendJson({
        event: 'start',
        streamSid: this.streamSid,
        start: { streamSid: this.streamSid, callSid: 'CAbench', customParameters: { greeting: '' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: RATE_HZ, channels: 1 } },
      });
    } else if (this.plan.transport === 'asterisk') {
      ws.send(`MEDIA_START connection_id:${this.streamSid} channel:WebSocket/bench format:ulaw optimal_frame_size:${FRAME_BYTES} ptime:${FRAME_MS}`);
    } else {
      this.sendJson({ callSid: this.streamSid, from: '+15550100', to: '+15550199', sampleRate: RATE_HZ, mixType: 'mono', metadata: { greeting: '' } });
    }
    this.nextUtteranceAt = performance.now();
    this.clock.add(this);
    return this.plan.windows;
  }

  tick(dueAt: number): void {
    const ws = this.ws;
    if (!ws || this.ending || ws.readyState !== WebSocket.OPEN) return;
    const chunkStart = dueAt - FRAME_MS;
    if (this.position === null && this.nextUtteranceAt !== null && chunkStart >= this.nextUtteranceAt - 0.5) this.beginUtterance(chunkStart);
    const l16 = this.plan.transport === 'jambonz';
    const frames = l16 ? this.plan.audio.l16Frames : this.plan.audio.frames;
    let frame = l16 ? this.plan.audio.l16Silence : this.plan.audio.silence;
    if (this.position !== null) {
      frame = frames[this.position]!;
      this.position = this.position + 1 < frames.length ? this.position + 1 : null;
    }
    if (this.plan.transport === 'twilio') this.sendJson({ event: 'media', streamSid: this.streamSid, media: { track: 'inbound', payload: Buffer.from(frame).toString('base64') } });
    else ws.send(frame, { binary: true });
    this.recorder.sendLag(performance.now() - dueAt);
    this.play();
    const now = performance.now();
    if (this.replying && this.queuedBytes === 0 && now - this.lastAudioAt >= REPLY_GAP_MS) this.replyEnded(now);
    if (this.position === null && this.nextUtteranceAt === null && !this.replying && this.lastTurnDone()) this.end();
  }

  end(): void {
    if (this.ending) return;
    this.ending = true;
    this.clock.remove(this);
    clearTimeout(this.replyTimer);
    if (this.ws?.readyState === WebSocket.OPEN) {
      if (this.plan.transport === 'twilio') this.sendJson({ event: 'stop', streamSid: this.streamSid, stop: { callSid: 'CAbench' } });
      this.ws.close(1000);
    }
    setTimeout(() => this.resolveDone(), this.ws ? END_GRACE_MS : 0).unref();
  }

  private beginUtterance(chunkStart: number): void {
    const { utterance } = this.plan.audio;
    this.nextUtteranceAt = null;
    const allowed = chunkStart < this.plan.stopAt && (this.plan.maxTurns === null || this.spoken < this.plan.maxTurns);
    if (!allowed) return;
    this.spoken++;
    this.position = 0;
    const turn: Turn = { onsetAt: chunkStart + utterance.speechStartMs, speechEndAt: chunkStart + utterance.speechEndMs };
    this.turns.push(turn);
    if (this.replying) this.interrupting = turn;
    clearTimeout(this.replyTimer);
    this.replyTimer = setTimeout(() => this.onReplyTimeout(turn), utterance.speechEndMs + this.plan.replyTimeoutMs);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const now = performance.now();
    if (this.plan.transport === 'asterisk') {
      if (isBinary) return this.onAudio(data, now);
      const command = data.toString();
      if (command === 'FLUSH_MEDIA') this.onFlush(now);
      else if (command === 'HANGUP') this.ws?.close(1000);
      return;
    }
    if (this.plan.transport === 'jambonz') {
      if (isBinary) return this.onAudio(data, now);
      if ((JSON.parse(data.toString()) as { type?: string }).type === 'killAudio') this.onFlush(now);
      return;
    }
    const message = JSON.parse(data.toString()) as { event: string; media?: { payload: string }; mark?: { name: string } };
    if (message.event === 'media') this.onAudio(Buffer.from(message.media!.payload, 'base64'), now);
    else if (message.event === 'mark') this.queue.push({ mark: message.mark!.name });
    else if (message.event === 'clear') this.onFlush(now);
  }

  private onAudio(bytes: Uint8Array, now: number): void {
    this.queue.push({ bytes });
    this.queuedBytes += bytes.length;
    this.lastAudioAt = now;
    if (this.replying) return;
    // The first audio after a turn's speech: that turn's reply.
    const turn = this.turns.findLast((t) => t.firstAudioAt === undefined && now > t.speechEndAt);
    if (!turn) return;
    turn.firstAudioAt = now;
    this.replying = turn;
    clearTimeout(this.replyTimer);
    if (this.plan.bargeInAfterMs !== null) this.nextUtteranceAt = now + this.plan.bargeInAfterMs;
  }

  /** The carrier plays 20 ms: Twilio echoes the marks whose audio has played. */
  private play(): void {
    let budget = this.plan.transport === 'jambonz' ? L16_FRAME_BYTES : FRAME_BYTES;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if ('mark' in head) {
        this.queue.shift();
        this.sendJson({ event: 'mark', streamSid: this.streamSid, mark: { name: head.mark } });
        continue;
      }
      if (budget === 0) break;
      const n = Math.min(budget, head.bytes.length);
      budget -= n;
      this.queuedBytes -= n;
      if (n === head.bytes.length) this.queue.shift();
      else head.bytes = head.bytes.subarray(n);
    }
  }

  /** clear / FLUSH_MEDIA / killAudio: the reply was interrupted; Twilio echoes the pending marks at once. */
  private onFlush(now: number): void {
    const marks = this.queue.filter((q): q is { mark: string } => 'mark' in q);
    this.queue = [];
    this.queuedBytes = 0;
    for (const { mark } of marks) this.sendJson({ event: 'mark', streamSid: this.streamSid, mark: { name: mark } });
    const by = this.interrupting;
    if (this.replying && by) {
      this.recorder.bargeIn({ toLastAudioMs: Math.max(0, this.lastAudioAt - by.onsetAt), toDoneMs: now - by.onsetAt }, by.onsetAt);
      this.recordTurn(this.replying);
      this.replying = null;
      this.interrupting = null;
    }
  }

  private replyEnded(now: number): void {
    const turn = this.replying!;
    this.replying = null;
    this.recordTurn(turn);
    if (this.interrupting) {
      this.recorder.bargeIn('missed', this.interrupting.onsetAt);
      this.interrupting = null;
    }
    if (this.position === null && this.nextUtteranceAt === null) this.nextUtteranceAt = now + this.plan.pauseMs;
  }

  private recordTurn(turn: Turn): void {
    if (turn.firstAudioAt === undefined) return;
    this.recorder.turn({ voiceToVoiceMs: turn.firstAudioAt - turn.speechEndAt, serverVoiceToVoiceMs: null, speculative: this.plan.speculative, at: turn.speechEndAt });
  }

  private onReplyTimeout(turn: Turn): void {
    if (this.ending || turn.firstAudioAt !== undefined) return;
    this.recorder.error('no_reply', `no reply audio within ${this.plan.replyTimeoutMs} ms of the end of speech`);
    turn.firstAudioAt = Number.NaN; // not waited for again
    if (!this.replying && this.position === null) this.nextUtteranceAt ??= performance.now() + this.plan.pauseMs;
  }

  /** No utterance is left to say and the last one was answered (or timed out). */
  private lastTurnDone(): boolean {
    const outOfTurns = performance.now() >= this.plan.stopAt || (this.plan.maxTurns !== null && this.spoken >= this.plan.maxTurns);
    return outOfTurns && (this.turns.at(-1)?.firstAudioAt !== undefined || this.turns.length === 0);
  }

  private sendJson(message: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
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

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}
