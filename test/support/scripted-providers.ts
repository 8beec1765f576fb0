/**
 * Scripted providers for tests: they follow the provider interfaces exactly, decide from the
 * audio's energy (so tests can "speak" with tones) and record what they were asked and told.
 */
import type {
  AsrOptions,
  AsrResult,
  AsrStream,
  ChatMessage,
  ChatModel,
  LlmOptions,
  LlmOutput,
  SpeechRecognizer,
  SpeechSynthesizer,
  TtsChunk,
  TtsOptions,
  VadStream,
  VoiceActivityDetector,
} from '../../src/providers/types.js';
import { ProviderError } from '../../src/providers/types.js';
import { concatPcm, rms, silence } from './speech-fixtures.js';

export { concatPcm as concat, silence };

const RATE_HZ = 16000;

/** A tone stands for speech; zeros for silence. */
export function tone(ms: number, rateHz = RATE_HZ, amplitude = 8000): Int16Array {
  const out = new Int16Array(Math.round((rateHz * ms) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 220 * i) / rateHz));
  return out;
}

/** Energy VAD: loud frames are speech. */
export class ScriptedVad implements VoiceActivityDetector {
  readonly sampleRateHz = RATE_HZ;
  readonly frameSamples = 512;
  createStream(): VadStream {
    return { speechProbability: (frame) => Promise.resolve(rms(frame) > 500 ? 0.95 : 0.02), close: () => undefined };
  }
}

/**
 * Recognizes "utterances" by energy: partials while loud, a final after `endpointMs` of quiet.
 * The words come in order from a list, or from a function of the utterance's length (so that
 * concurrent sessions each hear their own audio). Like Riva's two-pass end of utterance, it can
 * send a `stable` result after `stableAfterMs` of quiet; `finalOf` lets the final say other words.
 */
export interface ScriptedAsrOptions {
  stableAfterMs?: number;
  finalOf?: (stableText: string) => string;
}

export class ScriptedAsr implements SpeechRecognizer {
  readonly sampleRateHz = RATE_HZ;
  streamsOpened = 0;
  private readonly textOf: (voicedMs: number) => string;
  constructor(
    utterances: string[] | ((voicedMs: number) => string),
    private readonly endpointMs = 400,
    private readonly options: ScriptedAsrOptions = {},
  ) {
    this.textOf = typeof utterances === 'function' ? utterances : () => utterances.shift() ?? 'something';
    this.peek = typeof utterances === 'function' ? utterances : () => utterances[0] ?? 'something';
  }
  private readonly peek: (voicedMs: number) => string;

  stream(_opts: AsrOptions, signal: AbortSignal): AsrStream {
    this.streamsOpened++;
    const results: AsrResult[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    let voicedMs = 0;
    let quietMs = 0;
    let stableSent = false;
    const { stableAfterMs, finalOf } = this.options;
    const push = (r: AsrResult) => {
      results.push(r);
      wake?.();
    };
    const finish = () => {
      if (voicedMs > 0) {
        const text = textOf(voicedMs);
        push({ kind: 'final', text: finalOf ? finalOf(text) : text });
      }
      voicedMs = 0;
      stableSent = false;
    };
    signal.addEventListener('abort', () => {
      ended = true;
      wake?.();
    });
    const textOf = this.textOf;
    const peek = this.peek;
    const endpointMs = this.endpointMs;
    return {
      write(pcm) {
        const ms = (pcm.length * 1000) / RATE_HZ;
        if (rms(pcm) > 500) {
          voicedMs += ms;
          quietMs = 0;
          const words = peek(voicedMs).split(' ');
          push({ kind: 'partial', text: words.slice(0, Math.max(1, Math.floor(voicedMs / 200))).join(' ') });
        } else if (voicedMs > 0) {
          quietMs += ms;
          if (stableAfterMs !== undefined && !stableSent && quietMs >= stableAfterMs && quietMs < endpointMs) {
            stableSent = true;
            push({ kind: 'stable', text: peek(voicedMs) });
          }
          if (quietMs >= endpointMs) finish();
        }
      },
      end() {
        finish();
        ended = true;
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = results.shift();
          if (next) {
            yield next;
            continue;
          }
          if (ended) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    };
  }
}

export interface ScriptedLlmOptions {
  /** The reply for a request, as tokens (strings are text) and tool calls. */
  reply: (messages: ChatMessage[], opts: LlmOptions) => Array<string | LlmOutput>;
  tokenDelayMs?: number;
  /** Keeps streaming (and never stops) whatever the signal says. */
  ignoreAbort?: boolean;
  failWith?: ProviderError;
}

export class ScriptedLlm implements ChatModel {
  readonly requests: ChatMessage[][] = [];
  readonly options: LlmOptions[] = [];
  aborts = 0;
  /** Streams that yielded their whole script. */
  completed = 0;
  private readonly completedWaiters: Array<() => void> = [];
  constructor(private readonly script: ScriptedLlmOptions) {}

  /** Resolves once `count` streams have yielded their whole script. */
  async untilCompleted(count: number): Promise<void> {
    while (this.completed < count) await new Promise<void>((wake) => this.completedWaiters.push(wake));
  }

  async *stream(messages: ChatMessage[], opts: LlmOptions, signal: AbortSignal): AsyncGenerator<LlmOutput> {
    this.requests.push(messages.map((m) => ({ ...m })));
    this.options.push(opts);
    signal.addEventListener('abort', () => this.aborts++, { once: true });
    if (this.script.failWith) throw this.script.failWith;
    for (const token of this.script.reply(messages, opts)) {
      await delay(this.script.tokenDelayMs ?? 5);
      if (signal.aborted && !this.script.ignoreAbort) return;
      yield typeof token === 'string' ? { type: 'text', text: token } : token;
    }
    this.completed++;
    this.completedWaiters.splice(0).forEach((wake) => wake());
    if (this.script.ignoreAbort) await new Promise(() => undefined); // hangs forever
  }
}

export interface ScriptedTtsOptions {
  /** Audio per character of text. */
  msPerChar?: number;
  /** Wall time per 100 ms chunk (0 = as fast as possible). */
  chunkDelayMs?: number;
  ignoreAbort?: boolean;
  failWith?: ProviderError;
}

export class ScriptedTts implements SpeechSynthesizer {
  readonly texts: string[] = [];
  aborts = 0;
  constructor(private readonly options: ScriptedTtsOptions = {}) {}

  async *stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    this.texts.push(text);
    signal.addEventListener('abort', () => this.aborts++, { once: true });
    if (this.options.failWith) throw this.options.failWith;
    const totalMs = text.length * (this.options.msPerChar ?? 50);
    for (let at = 0; at < totalMs; at += 100) {
      await delay(this.options.chunkDelayMs ?? 1);
      if (signal.aborted && !this.options.ignoreAbort) return;
      yield { pcm: tone(Math.min(100, totalMs - at), opts.sampleRateHz, 3000), sampleRateHz: opts.sampleRateHz };
    }
    if (this.options.ignoreAbort) await new Promise(() => undefined);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
