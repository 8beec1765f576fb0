/**
 * Reply audio sent at the pace the caller hears it, for carriers that play whatever they get
 * (AudioSocket: nothing sent can be taken back) or that queue it but say nothing of what has
 * played (Asterisk chan_websocket: FLUSH_MEDIA drops its queue, but it has no marks). Audio waits
 * here and goes out one 20 ms frame per clock tick, at most `leadFrames` ahead of the far end's
 * ear; a model of the far end (it plays one frame per tick while it has one) says what the caller
 * has heard, which becomes the session's playback reports, so history is cut to what was heard.
 */
import type { SessionPort } from '../../core/session-port.js';
import { FRAME_MS, frameClock } from './frame-clock.js';
import type { CallLeg, Frame } from './telephony-call.js';

export interface PlayoutSettings {
  /** Bytes of one 20 ms frame in the call's format. */
  frameBytes: number;
  /** Frames the far end may hold ahead of its ear (1: strictly real time). */
  leadFrames: number;
  /** The byte that is silence in the call's encoding (0xff mu-law, 0xd5 A-law, 0 PCM). */
  silenceByte: number;
  /** Bytes that may wait here; past it `push` returns false (the caller is not keeping up). */
  maxHeldBytes: number;
  /** Sends frames (one or more whole frames, in order) to the far end. */
  send(frames: Uint8Array[]): void;
  /** The caller has heard `playedMs` of reply `responseId`. */
  heard(responseId: string, playedMs: number): void;
}

/** How often (ms of audio) the heard position is reported while a reply plays. */
const REPORT_EVERY_MS = 100;

interface Held {
  responseId: string;
  bytes: Uint8Array;
}

export class PacedPlayout {
  private held: Held[] = [];
  private heldBytes = 0;
  /** Frames at the far end not yet played: their reply and the position each ends at. */
  private readonly inFlight: Array<{ responseId: string; endMs: number }> = [];
  private readonly sentMs = new Map<string, number>();
  private lastReported = { responseId: '', playedMs: 0 };
  private paused = false;
  private idleWaiters: Array<() => void> = [];
  private readonly tick = () => this.onTick();

  constructor(private readonly settings: PlayoutSettings) {
    frameClock.add(this.tick);
  }

  /** Queues reply audio; false when more than maxHeldBytes would wait (nothing is queued then). */
  push(responseId: string, data: Uint8Array): boolean {
    if (this.heldBytes + data.length > this.settings.maxHeldBytes) return false;
    this.held.push({ responseId, bytes: data });
    this.heldBytes += data.length;
    // Whole frames go out at once while the far end holds less than the lead (a reply's first
    // audio does not wait for the next tick); a partial one waits for the clock.
    if (!this.paused) this.release(true);
    return true;
  }

  /** Barge-in: what waits here is dropped; the far end drops its queue too (or cannot). */
  flush(): void {
    this.held = [];
    this.heldBytes = 0;
    this.inFlight.length = 0;
    this.wakeIdle();
  }

  /** Flow control from the far end (MEDIA_XOFF / MEDIA_XON): nothing is sent while paused. */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /** Ms of reply audio not yet heard (waiting here or at the far end). */
  get pendingMs(): number {
    return (this.heldBytes / this.settings.frameBytes + this.inFlight.length) * FRAME_MS;
  }

  /** Calls `done` once every frame sent has been played (at once if none waits). */
  whenIdle(done: () => void): void {
    if (this.heldBytes === 0 && this.inFlight.length === 0) return done();
    this.idleWaiters.push(done);
  }

  stop(): void {
    frameClock.remove(this.tick);
    this.held = [];
    this.heldBytes = 0;
  }

  private onTick(): void {
    const played = this.inFlight.shift();
    if (played) this.report(played.responseId, played.endMs, this.inFlight[0]?.responseId !== played.responseId);
    if (!this.paused) this.release();
    if (this.heldBytes === 0 && this.inFlight.length === 0) this.wakeIdle();
  }

  /**
   * Sends whole frames until the far end holds leadFrames. A reply's last, partial frame is padded
   * with silence once its reply is over (other audio follows) or the far end would run dry.
   */
  private release(wholeFramesOnly = false): void {
    const { frameBytes, leadFrames } = this.settings;
    const frames: Uint8Array[] = [];
    while (this.inFlight.length < leadFrames && this.held.length > 0) {
      const responseId = this.held[0]!.responseId;
      let available = 0;
      let index = 0;
      for (; index < this.held.length && this.held[index]!.responseId === responseId && available < frameBytes; index++) available += this.held[index]!.bytes.length;
      const replyOver = index < this.held.length && this.held[index]!.responseId !== responseId;
      if (available < frameBytes && (wholeFramesOnly || (!replyOver && this.inFlight.length > 0))) break;
      frames.push(this.take(responseId, Math.min(frameBytes, available)));
    }
    if (frames.length > 0) this.settings.send(frames);
  }

  /** One frame of `responseId` from the held audio (padded with silence when shorter). */
  private take(responseId: string, bytes: number): Uint8Array {
    const { frameBytes, silenceByte } = this.settings;
    const frame = new Uint8Array(frameBytes).fill(silenceByte);
    let filled = 0;
    while (filled < bytes) {
      const head = this.held[0]!;
      const n = Math.min(bytes - filled, head.bytes.length);
      frame.set(head.bytes.subarray(0, n), filled);
      filled += n;
      if (n === head.bytes.length) this.held.shift();
      else head.bytes = head.bytes.subarray(n);
    }
    this.heldBytes -= bytes;
    const endMs = (this.sentMs.get(responseId) ?? 0) + (bytes / frameBytes) * FRAME_MS;
    if (!this.sentMs.has(responseId)) this.sentMs.clear(); // positions of earlier replies are no longer needed
    this.sentMs.set(responseId, endMs);
    this.inFlight.push({ responseId, endMs });
    return frame;
  }

  private report(responseId: string, playedMs: number, last: boolean): void {
    const previous = this.lastReported;
    if (!last && previous.responseId === responseId && playedMs - previous.playedMs < REPORT_EVERY_MS) return;
    this.lastReported = { responseId, playedMs };
    this.settings.heard(responseId, playedMs);
  }

  private wakeIdle(): void {
    for (const done of this.idleWaiters.splice(0)) done();
  }
}

/**
 * The call leg of a paced carrier: reply audio waits in `playout` (a session whose audio piles up
 * past the bound is closed as too slow), a barge-in drops it and sends `flushFrames`.
 */
export function pacedLeg(playout: PacedPlayout, session: SessionPort, maxHeldBytes: number, flushFrames: Frame[], hangUp: CallLeg['hangUp']): CallLeg {
  return {
    play(responseId, data) {
      if (!playout.push(responseId, data)) session.close(`more than ${maxHeldBytes} bytes of reply audio are waiting to be played (OUTBOUND_QUEUE_MAX_BYTES)`, 'client_too_slow');
      return [];
    },
    flush() {
      playout.flush();
      return flushFrames;
    },
    hangUp,
  };
}
