/**
 * Speculative start (docs/architecture.md §4). A stable interim transcript (Riva's early end of utterance, about
 * 240 ms after speech stops) starts the reply at once; the final, a few hundred ms later, confirms
 * it (the same words, case and punctuation aside) or the early reply is thrown away and the reply
 * restarts from the final. With end_of_turn_source smart_turn the model's question at the short
 * silence also starts it (with the words so far); the end of turn the model decides confirms it,
 * the user speaking on drops it (`spokeOn`).
 *
 * Until it is confirmed the early reply is invisible: the LLM streams and TTS synthesizes, but the
 * audio is held, its events are held, the session's turn state and history do not change. A miss
 * drops it all. The Speculator decides (start, hit, miss); the reply owner (./replies.ts) builds
 * and starts the early reply like any other. Nothing with a side effect runs before confirmation: the LLM only streams text
 * (ChatModel has no tools); a tool call added later must wait for `HoldGate.wait()` to say true.
 */
import { AsyncQueue } from '../lib/async-queue.js';
import type { ChatMessage, SpeechSynthesizer, TtsChunk, TtsOptions } from '../providers/types.js';
import { whenAborted } from './abortable.js';
import type { ServerEvent, SpeculativeOutcome, TranscriptStability } from './events.js';
import type { Reply } from './reply.js';

/** Words only: lower case, no punctuation, single spaces ("What's up?" -> "whats up"). */
export function normalizedWords(text: string): string {
  return text
    .toLowerCase()
    .replace(/['\u2019]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function sameWords(a: string, b: string): boolean {
  return normalizedWords(a) === normalizedWords(b);
}

/**
 * The early request answers the same question as the one due now: the same conversation before
 * it, and a last user message with the same words.
 */
export function sameRequest(early: readonly ChatMessage[], now: readonly ChatMessage[]): boolean {
  if (early.length !== now.length || early.length === 0) return false;
  const last = early.length - 1;
  for (let i = 0; i < last; i++) {
    if (early[i]!.role !== now[i]!.role || early[i]!.content !== now[i]!.content) return false;
  }
  return early[last]!.role === 'user' && now[last]!.role === 'user' && sameWords(early[last]!.content, now[last]!.content);
}

/** Held until released (true) or dropped (false). */
export class HoldGate {
  private state: 'held' | 'released' | 'dropped' = 'held';
  private readonly waiters: Array<(released: boolean) => void> = [];

  get held(): boolean {
    return this.state === 'held';
  }

  wait(): Promise<boolean> {
    if (this.state !== 'held') return Promise.resolve(this.state === 'released');
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.settle('released');
  }

  drop(): void {
    this.settle('dropped');
  }

  private settle(state: 'released' | 'dropped'): void {
    if (this.state !== 'held') return;
    this.state = state;
    for (const wake of this.waiters.splice(0)) wake(state === 'released');
  }
}

/**
 * `tts` with its audio held: synthesis starts at once (so the audio is ready when the reply is
 * confirmed) and the chunks are delivered once the gate is released; nothing if it is dropped.
 * `onFirstAudio` learns when the first chunk was ready (the reply times its backend latency by it).
 */
export function heldSynthesizer(tts: SpeechSynthesizer, gate: HoldGate, onFirstAudio: (readyAt: number) => void): SpeechSynthesizer {
  return {
    async *stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
      if (!gate.held) {
        if (await gate.wait()) yield* tts.stream(text, opts, signal);
        return;
      }
      const chunks = new AsyncQueue<TtsChunk>();
      let stopped = false;
      const synthesize = async () => {
        let first = true;
        for await (const chunk of tts.stream(text, opts, signal)) {
          if (stopped) return;
          if (first) onFirstAudio(performance.now());
          first = false;
          chunks.push(chunk);
        }
        chunks.end();
      };
      // A synthesis failure reaches the reply through the queue, as if it had not been held.
      synthesize().catch((error: unknown) => chunks.fail(error));
      try {
        // An abort (a miss, barge-in) must not leave this generator waiting on the gate.
        const released = await Promise.race([gate.wait(), whenAborted(signal).then(() => false)]);
        if (!released) return;
        yield* chunks;
      } finally {
        stopped = true;
        chunks.endNow();
      }
    },
  };
}

/**
 * One early reply while it waits for the final: its gate, its held events, the request it was
 * started with. The reply itself is built and started by the reply owner (./replies.ts), with
 * `emit` as its event sink and its synthesizer held behind `gate`.
 */
export class Speculation {
  readonly gate = new HoldGate();
  private heldEvents: ServerEvent[] = [];
  private sink: ((event: ServerEvent) => void) | null = null;
  private started: Reply | null = null;

  constructor(
    readonly turnId: string,
    readonly messages: readonly ChatMessage[],
  ) {}

  /** The early reply, once started. */
  get reply(): Reply {
    if (!this.started) throw new Error('the early reply was not started');
    return this.started;
  }

  /** The reply's event sink: held until confirmed. */
  readonly emit = (event: ServerEvent): void => {
    if (this.sink) this.sink(event);
    else this.heldEvents.push(event);
  };

  /** The reply the owner started for it. */
  attach(reply: Reply): void {
    this.started = reply;
  }

  /** Confirmed: held events go to `sink`, then the held audio flows. */
  release(sink: (event: ServerEvent) => void): void {
    this.sink = sink;
    for (const event of this.heldEvents.splice(0)) sink(event);
    this.gate.release();
  }

  drop(): void {
    this.gate.drop();
    this.started?.interrupt();
  }
}

export type SpeculationResult = { outcome: SpeculativeOutcome; confirmed: Speculation | null };

/** At most one early reply per session, for the turn the user is speaking. */
export class Speculator {
  private current: Speculation | null = null;
  /** A turn whose early reply was dropped before its end (the user went on talking). */
  private missedTurnId: string | null = null;

  /**
   * A transcript of the user's pending turn; `request`: what the reply to all of it so far would
   * send the LLM. A stable one starts an early reply with `start` (the reply owner builds and runs
   * it for the speculation); one with other words drops the early reply, which answers words the
   * user no longer says.
   */
  onTranscript(turnId: string, stability: TranscriptStability, request: readonly ChatMessage[], start: (speculation: Speculation) => Reply): void {
    const current = this.current;
    if (current && (current.turnId !== turnId || !sameRequest(current.messages, request))) {
      if (current.turnId === turnId) this.missedTurnId = turnId;
      this.cancel();
    }
    if (stability === 'stable' && !this.current) {
      const speculation = new Speculation(turnId, request);
      speculation.attach(start(speculation));
      this.current = speculation;
    }
  }

  /** The user speaks on in `turnId` after its early reply started at a pause (Smart Turn's question): it is dropped. */
  spokeOn(turnId: string): void {
    if (this.current?.turnId !== turnId) return;
    this.missedTurnId = turnId;
    this.cancel();
  }

  /**
   * The reply to `turnId` is due with `request`: the early reply if it sent the same (hit), else
   * the early reply is dropped (miss). Any other early reply is dropped too.
   */
  resolve(turnId: string, request: readonly ChatMessage[]): SpeculationResult {
    const current = this.current;
    this.current = null;
    if (current?.turnId === turnId && sameRequest(current.messages, request)) {
      this.missedTurnId = null;
      return { outcome: 'hit', confirmed: current };
    }
    current?.drop();
    const missed = current?.turnId === turnId || this.missedTurnId === turnId;
    this.missedTurnId = null;
    return { outcome: missed ? 'miss' : 'none', confirmed: null };
  }

  cancel(): void {
    this.current?.drop();
    this.current = null;
  }
}
