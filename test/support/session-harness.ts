/**
 * Drives a core Session the way a transport does: client events in, server events out, in order.
 * Audio goes in as fast as the session takes it; VAD and ASR decide in audio time, so results do
 * not depend on the machine's speed.
 */
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import { SETTINGS } from '../../src/config/schema.js';
import type { ServerEvent, SettingsPatch } from '../../src/core/events.js';
import { Session, type SessionConfig, type SessionObserver } from '../../src/core/session.js';
import { sessionTurnSettings, turnEngineSettings, turnValues, type TurnValues } from '../../src/core/turn-config.js';
import type { Providers } from '../../src/providers/types.js';

/**
 * The turn knobs of core/turn-config.ts, at their defaults but for these (checked against the
 * same bounds): VAD durations that are whole 32 ms frames, a barge-in a test can reach with a
 * short utterance, shorter waits so that a failing test fails sooner, and speculative start off
 * (the tests of speculative start turn it on).
 */
export const HARNESS_TURN: Partial<TurnValues> = {
  bargeInMinSpeechMs: 200,
  vadMinSpeechMs: 64,
  vadMinSilenceMs: 256,
  asrFinalWaitMs: 1000,
  cancelBudgetMs: 100,
  speculativeStart: false,
};

export function sessionConfig(overrides: Partial<SessionConfig> = {}, turn: Partial<TurnValues> = {}): SessionConfig {
  const values = turnValues({ ...HARNESS_TURN, ...turn });
  return {
    defaults: {
      inputFormat: { encoding: 'pcm16', sampleRateHz: 16000 },
      outputFormat: { encoding: 'pcm16', sampleRateHz: 16000 },
      language: 'en-US',
      voice: '',
      instructions: 'Be brief.',
      turn: sessionTurnSettings(values),
      tools: [],
      toolChoice: 'auto',
      toolFiller: true,
    },
    ...turnEngineSettings(values),
    llmTemperature: 0.5,
    llmMaxTokens: 256,
    llmContextTokens: Number(SETTINGS.LLM_CONTEXT_TOKENS.default),
    maxDurationMs: 60_000,
    idleTimeoutMs: 30_000,
    maxTextChars: 4000,
    inboundQueueMaxMessages: 10_000,
    inboundQueueMaxBytes: 64 * 1024 * 1024,
    outboundQueueMaxBytes: 64 * 1024 * 1024,
    startTimeoutMs: 10_000,
    ...overrides,
  };
}

export type EventOf<T extends ServerEvent['type']> = Extract<ServerEvent, { type: T }>;

export class SessionDriver {
  readonly session: Session;
  readonly events: ServerEvent[] = [];
  readonly abandoned: string[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly finished: Promise<void>;

  constructor(providers: Providers, config: SessionConfig = sessionConfig(), observer: SessionObserver = {}) {
    const session = new Session(providers, config, { ...observer, onAbandoned: (kind) => this.abandoned.push(kind) });
    this.session = session;
    this.finished = (async () => {
      for await (const event of session.events) {
        this.events.push(event);
        this.waiters.splice(0).forEach((wake) => wake());
      }
    })();
  }

  start(settings: SettingsPatch = {}): Promise<EventOf<'ready'>> {
    this.session.handle({ type: 'start', settings, metadata: {} });
    return this.next('ready');
  }

  /** Sends audio in `chunkMs` chunks. */
  audio(pcm: Int16Array, chunkMs = 100, rateHz = 16000): void {
    const step = Math.round((rateHz * chunkMs) / 1000);
    for (let at = 0; at < pcm.length; at += step) this.session.handle({ type: 'audio', data: bytesFromPcm16(pcm.subarray(at, at + step)) });
  }

  /** The first event of `type` after the `skip` earlier ones that match, waiting up to `timeoutMs`. */
  async next<T extends ServerEvent['type']>(type: T, match: (e: EventOf<T>) => boolean = () => true, timeoutMs = 10_000): Promise<EventOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e): e is EventOf<T> => e.type === type && match(e as EventOf<T>));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${type} event within ${timeoutMs} ms; saw: ${this.summary()}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /**
   * A reader of the events from now on: each `next` takes the first matching event after the last
   * one it took, so two replies are two `next('response_done')`.
   */
  cursor(): EventCursor {
    return new EventCursor(this, this.events.length);
  }

  /** Resolves once the session has processed every event sent to it so far (Session.settled). */
  settled(): Promise<void> {
    return this.session.settled();
  }

  /** @internal Wakes when an event arrives or after `pollMs`. */
  arrival(pollMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, pollMs);
    });
  }

  all<T extends ServerEvent['type']>(type: T): Array<EventOf<T>> {
    return this.events.filter((e): e is EventOf<T> => e.type === type);
  }

  /** Event types in order, audio and partial transcripts collapsed, for readable failures. */
  summary(): string {
    return this.events
      .filter((e, i, all) => e.type !== 'response_audio' || all[i - 1]?.type !== 'response_audio')
      .map((e) => (e.type === 'error' ? `error(${e.code}: ${e.message})` : e.type === 'response_done' ? `response_done(${e.status})` : e.type))
      .join(', ');
  }
}

/** Reads a driver's events in order, taking each one it returns (SessionDriver.cursor). */
export class EventCursor {
  constructor(
    private readonly driver: SessionDriver,
    private at: number,
  ) {}

  /** The next event of `type` (matching) after the last one taken, waiting up to `timeoutMs`. */
  async next<T extends ServerEvent['type']>(type: T, match: (e: EventOf<T>) => boolean = () => true, timeoutMs = 10_000): Promise<EventOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = this.driver.events;
      for (let i = this.at; i < events.length; i++) {
        const e = events[i]!;
        if (e.type === type && match(e as EventOf<T>)) {
          this.at = i + 1;
          return e as EventOf<T>;
        }
      }
      if (Date.now() > deadline) throw new Error(`no further ${type} event within ${timeoutMs} ms; saw: ${this.driver.summary()}`);
      await this.driver.arrival(50);
    }
  }

  /** The events after the last one taken, without taking them. */
  rest(): ServerEvent[] {
    return this.driver.events.slice(this.at);
  }
}
