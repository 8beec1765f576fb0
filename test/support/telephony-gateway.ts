/**
 * A gateway in this process for the phone-call tests: the real configuration loading and
 * composition (src/server.ts) on loopback ports, with scripted VAD, ASR, LLM and TTS whose
 * requests the test can read, and the gateway's log lines kept for assertions.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { ChatMessage, TtsChunk, TtsOptions } from '../../src/providers/types.js';
import { remoteModel } from '../../src/providers/llm/create.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad } from './scripted-providers.js';

/** The weather line the Asterisk, AudioSocket and jambonz call tests talk to. */
export const WEATHER_REPLY = 'It will be sunny in the morning. Clouds will come in the afternoon. Rain is likely by the evening. Take an umbrella with you.';
export const lastUser = (messages: ChatMessage[]): string => messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

/** Key 5 is answered, key 9 says goodbye (an end phrase), anything else gets the long weather reply. */
export function weatherLine(messages: ChatMessage[]): string[] {
  const said = lastUser(messages);
  if (said === '[pressed 5]') return ['You ', 'pressed ', 'five.'];
  if (said === '[pressed 9]') return ['Thanks ', 'for ', 'calling, ', 'goodbye.'];
  return WEATHER_REPLY.split(/(?<= )/);
}

/** A TTS that also records the sample rate each piece was asked for. */
export class RecordingTts extends ScriptedTts {
  readonly rates: number[] = [];
  override stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    this.rates.push(opts.sampleRateHz);
    return super.stream(text, opts, signal);
  }
}

export interface TelephonyGateway {
  gateway: Gateway;
  llm: ScriptedLlm;
  tts: RecordingTts;
  /** The gateway's log lines (JSON), in order. */
  logs: Array<{ level: number; msg: string; [field: string]: unknown }>;
  httpBase: string;
  wsBase: string;
  /** Log lines at warn level or above. */
  warnings(): string[];
  /** Resolves once a session more than `openedBefore` (a sessionsOpened() reading) has opened. */
  admitted(openedBefore: number): Promise<unknown>;
  sessionsOpened(): number;
  close(): Promise<void>;
}

export interface TelephonyGatewayOptions {
  env?: Record<string, string>;
  /** The LLM's reply (as tokens) to a request. */
  reply: (messages: ChatMessage[]) => string[];
  /** TTS audio per character (ms); 50 makes a 60-character reply 3 s long. */
  msPerChar?: number;
  /**
   * The real OpenAI-compatible provider against this server (a scripted one that can stream
   * tool calls) instead of the in-process scripted LLM (`reply` and `llm` are then unused).
   */
  llmBaseUrl?: string;
}

export async function startTelephonyGateway(options: TelephonyGatewayOptions): Promise<TelephonyGateway> {
  const logs: TelephonyGateway['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as TelephonyGateway['logs'][number]);
      done();
    },
  });
  const remote = options.llmBaseUrl ? { LLM_BASE_URL: options.llmBaseUrl } : {};
  const config = loadConfig({ HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'info', TURN_END_SILENCE_MS: '400', ...remote, ...options.env });
  const llm = new ScriptedLlm({ reply: options.reply, tokenDelayMs: 2 });
  const tts = new RecordingTts({ msPerChar: options.msPerChar ?? 50 });
  const gateway = await startGateway({
    config,
    logger: pino({ level: 'info' }, sink),
    providers: { vad: new ScriptedVad(), asr: new ScriptedAsr(() => 'what is the weather'), llm: options.llmBaseUrl ? remoteModel(config) : llm, tts },
  });
  return {
    gateway,
    llm,
    tts,
    logs,
    httpBase: `http://127.0.0.1:${gateway.httpPort}`,
    wsBase: `ws://127.0.0.1:${gateway.httpPort}`,
    warnings: () => logs.filter((l) => l.level >= 40).map((l) => l.msg),
    sessionsOpened: () => logs.filter((l) => l.msg === 'session opened').length,
    admitted: (openedBefore) => eventually(() => logs.filter((l) => l.msg === 'session opened').length > openedBefore, 'the call admitted'),
    close: () => gateway.close(),
  };
}

/** Waits until `check` returns a value (not undefined/false), polling; bounded so a broken test ends. */
export async function eventually<T>(check: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
