/**
 * One TCP connection to a Wyoming server: events out, events in, each wait bounded, and failures
 * as ProviderErrors that say what to check. Wyoming servers take one request per connection or
 * several in turn (wyoming-faster-whisper closes after each transcript; wyoming-piper keeps it),
 * so the providers open one per utterance or per piece of text: on a LAN that costs a round trip,
 * and no connection state outlives a request. Aborting the signal destroys the socket, which the
 * server sees as the client leaving.
 */
import { createConnection, type Socket } from 'node:net';
import { AsyncQueue } from '../../lib/async-queue.js';
import { ProviderError } from '../types.js';
import { EventDecoder, encodeEvent, parseInfo, WyomingProtocolError, type WyomingEvent, type WyomingInfo } from './protocol.js';

export type WyomingService = 'asr' | 'tts';

export interface WyomingAddress {
  host: string;
  port: number;
  /** As configured, for messages. */
  uri: string;
}

/** `tcp://host:port` (Wyoming's own form) or `host:port`; IPv6 in brackets. */
export function parseWyomingUri(uri: string): WyomingAddress {
  const match = /^(?:tcp:\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(uri);
  if (!match || Number(match[2]) > 65535) throw new Error(`${JSON.stringify(uri)} is not tcp://host:port`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]), uri };
}

const SETTING = { asr: 'WYOMING_ASR_URI', tts: 'WYOMING_TTS_URI' } as const;
/** Events read ahead of the consumer before the socket is paused (each at most SPEECH_MAX_MESSAGE_BYTES). */
const READ_AHEAD_EVENTS = 64;

/**
 * A ProviderError that also says whether a new connection at once may do better (`reconnect`:
 * none came up, or it closed before the answer); a timeout is retryable later, not at once.
 */
export class WyomingError extends ProviderError {
  constructor(
    kind: WyomingService,
    message: string,
    readonly reconnect: boolean,
    retryable = reconnect,
  ) {
    super(kind, message, { retryable });
  }
}

export class WyomingConnection {
  private readonly socket: Socket;
  private readonly decoder: EventDecoder;
  private readonly events = new AsyncQueue<WyomingEvent>();
  private failure: WyomingError | null = null;
  private readonly onAbort = () => this.close();

  constructor(
    readonly address: WyomingAddress,
    private readonly kind: WyomingService,
    maxEventBytes: number,
    private readonly signal: AbortSignal,
  ) {
    this.decoder = new EventDecoder(maxEventBytes);
    // Writes before the connection is up are queued by the socket.
    this.socket = createConnection({ host: address.host, port: address.port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.failure ??= new WyomingError(kind, `could not reach the Wyoming ${this.what} server at ${address.uri} (${error.code ?? error.message}): check ${SETTING[kind]} and that the server is running`, true);
    });
    this.socket.on('close', () => {
      signal.removeEventListener('abort', this.onAbort);
      if (this.failure) this.events.fail(this.failure);
      else this.events.end();
    });
    if (signal.aborted) this.close();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private get what(): string {
    return this.kind === 'asr' ? 'speech-to-text' : 'text-to-speech';
  }

  send(event: WyomingEvent): void {
    if (!this.socket.destroyed) this.socket.write(encodeEvent(event));
  }

  /**
   * The next event; fails when the server closes first, reports an `error`, or sends nothing
   * within `timeoutMs`. `waitingFor` names what was expected, for the message.
   */
  async next(timeoutMs: number, waitingFor: string, timeoutSetting: string): Promise<WyomingEvent> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new WyomingError(this.kind, `the Wyoming server at ${this.address.uri} sent nothing within ${Math.round(timeoutMs)} ms while we waited for ${waitingFor} (${timeoutSetting}); it may be overloaded`, false, true));
        this.close();
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([this.events.next(), timeout]);
      if (result.done === true) throw new WyomingError(this.kind, `the Wyoming server at ${this.address.uri} closed the connection before sending ${waitingFor}`, true);
      const value: WyomingEvent = result.value;
      if (this.socket.isPaused() && this.events.size < READ_AHEAD_EVENTS / 2) this.socket.resume();
      if (value.type === 'error') {
        const text = typeof value.data.text === 'string' ? value.data.text : JSON.stringify(value.data);
        const code = typeof value.data.code === 'string' ? ` (${value.data.code})` : '';
        throw new WyomingError(this.kind, `the Wyoming server at ${this.address.uri} reported an error: ${text.slice(0, 300)}${code}`, false);
      }
      return value;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    try {
      for (const event of this.decoder.push(chunk)) this.events.push(event);
      // A server that sends faster than we read waits for us, as over any socket.
      if (this.events.size >= READ_AHEAD_EVENTS) this.socket.pause();
    } catch (error) {
      const detail = error instanceof WyomingProtocolError ? error.message : String(error);
      this.failure = new WyomingError(this.kind, `the server at ${this.address.uri} does not speak Wyoming: ${detail}; check ${SETTING[this.kind]}`, false);
      this.close();
    }
  }
}

/** `describe` answered by `info`: what the server offers. */
export async function describe(
  address: WyomingAddress,
  kind: WyomingService,
  limits: { timeoutMs: number; timeoutSetting: string; maxEventBytes: number },
  signal: AbortSignal = new AbortController().signal,
): Promise<WyomingInfo> {
  const connection = new WyomingConnection(address, kind, limits.maxEventBytes, signal);
  try {
    connection.send({ type: 'describe', data: {} });
    for (;;) {
      const event = await connection.next(limits.timeoutMs, 'info (the answer to describe)', limits.timeoutSetting);
      if (event.type === 'info') return parseInfo(event.data);
    }
  } finally {
    connection.close();
  }
}
