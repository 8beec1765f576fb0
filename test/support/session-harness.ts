/**
 * Drives a core Session the way a transport does: client events in, server events out, in order.
 * Audio goes in as fast as the session takes it; VAD and ASR decide in audio time, so results do
 * not depend on the machine's speed.
 */
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import type { ServerEvent, SettingsPatch } from '../../src/core/events.js';
import { Session, type SessionConfig, type SessionObserver } from '../../src/core/session.js';
import type { Providers } from '../../src/providers/types.js';

export function sessionConfig(overrides: Partial<SessionConfig> = {}): SessionConfig {
  return {
    defaults: {
      inputFormat: { encoding: 'pcm16', sampleRateHz: 16000 },
      outputFormat: { encoding: 'pcm16', sampleRateHz: 16000 },
      language: 'en-US',
      voice: '',
      instructions: 'Be brief.',
      turn: { endOfTurnSource: 'vad', endOfTurnSilenceMs: 500, bargeInMinSpeechMs: 200, bargeInEnabled: true, autoRespond: true, vadThreshold: 0.5, prefixPaddingMs: 0 },
      tools: [],
      toolChoice: 'auto',
      toolFiller: true,
    },
    vad: { threshold: 0.5, negThreshold: 0.35, minSpeechMs: 64, minSilenceMs: 256 },
    asrFinalWaitMs: 1000,
    cancelBudgetMs: 100,
    maxPieceChars: 200,
    llmTemperature: 0.5,
    llmMaxTokens: 256,
    maxDurationMs: 60_000,
    idleTimeoutMs: 30_000,
    maxTextChars: 4000,
    inboundQueueMaxMessages: 10_000,
    outboundQueueMaxBytes: 64 * 1024 * 1024,
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
