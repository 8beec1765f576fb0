/**
 * Speech recognition on a Wyoming server (wyoming-faster-whisper and its kin; Home Assistant's
 * protocol). The session's VAD cuts the audio into utterances (utterance-stream.ts); each gets a
 * connection when it starts, and its audio streams there as it is spoken:
 * `transcribe` {language, name?}, `audio-start` {rate, width, channels}, `audio-chunk`... then
 * `audio-stop` when it ends, and the server answers `transcript` {text}. Servers that stream their
 * transcript (`supports_transcript_streaming` in info, wyoming 1.7) send `transcript-start`,
 * `transcript-chunk` {text}... and `transcript-stop` before it: those chunks become partials.
 *
 * Quirks kept here: wyoming-faster-whisper closes the connection after each transcript (its
 * handler returns False), so nothing is reused; it passes `language` to Whisper, which wants
 * "en", not "en-US". The utterance's audio is kept until its transcript comes, so a connection
 * that fails on the way is opened again and everything sent again (ASR_RETRIES).
 */
import { bytesFromPcm16 } from '../../audio/pcm.js';
import type { AsrOptions, AsrStream, SpeechRecognizer } from '../types.js';
import { WyomingConnection, WyomingError, type WyomingAddress } from '../wyoming/connection.js';
import { UtteranceAsrStream, type UtteranceJob } from './utterance-stream.js';

export interface WyomingAsrSettings {
  address: WyomingAddress;
  /** Sent as transcribe's `name`; empty: the server's model. */
  model: string;
  maxUtteranceMs: number;
  paddingMs: number;
  /** Longest wait for the transcript after the utterance ended, retries included. */
  timeoutMs: number;
  retries: number;
  maxEventBytes: number;
}

/** Whisper's rate, which Wyoming ASR servers expect (16-bit mono). */
const RATE_HZ = 16000;
const WIDTH_BYTES = 2;

export class WyomingRecognizer implements SpeechRecognizer {
  readonly sampleRateHz = RATE_HZ;

  constructor(readonly settings: WyomingAsrSettings) {}

  stream(opts: AsrOptions, signal: AbortSignal): AsrStream {
    const language = opts.language.split('-')[0]!.toLowerCase();
    const s = this.settings;
    return new UtteranceAsrStream(
      { sampleRateHz: opts.sampleRateHz, paddingMs: s.paddingMs, maxUtteranceMs: s.maxUtteranceMs },
      (lead, partial, jobSignal) => new WyomingUtterance(s, language, opts.sampleRateHz, lead, partial, jobSignal),
      signal,
    );
  }
}

class WyomingUtterance implements UtteranceJob {
  private readonly chunks: Int16Array[] = [];
  private connection: WyomingConnection;

  constructor(
    private readonly settings: WyomingAsrSettings,
    private readonly language: string,
    private readonly rateHz: number,
    lead: Int16Array,
    private readonly partial: (text: string) => void,
    private readonly signal: AbortSignal,
  ) {
    if (lead.length > 0) this.chunks.push(lead);
    this.connection = this.open();
  }

  audio(pcm: Int16Array): void {
    this.chunks.push(pcm);
    this.connection.send(this.chunk(pcm));
  }

  async finish(): Promise<string> {
    const started = performance.now();
    try {
      for (let attempt = 0; ; attempt++) {
        this.connection.send({ type: 'audio-stop', data: {} });
        try {
          return await this.transcript(this.settings.timeoutMs - (performance.now() - started));
        } catch (error) {
          const timeLeft = performance.now() - started < this.settings.timeoutMs;
          const again = error instanceof WyomingError && error.reconnect && attempt < this.settings.retries && timeLeft && !this.signal.aborted;
          if (!again) throw error;
          this.connection.close();
          this.connection = this.open(); // sends the whole utterance again
        }
      }
    } finally {
      this.connection.close();
    }
  }

  /** A connection with the request and the audio so far sent on it. */
  private open(): WyomingConnection {
    const s = this.settings;
    const connection = new WyomingConnection(s.address, 'asr', s.maxEventBytes, this.signal);
    connection.send({ type: 'transcribe', data: { language: this.language, ...(s.model && { name: s.model }) } });
    connection.send({ type: 'audio-start', data: { rate: this.rateHz, width: WIDTH_BYTES, channels: 1 } });
    for (const pcm of this.chunks) connection.send(this.chunk(pcm));
    return connection;
  }

  private chunk(pcm: Int16Array) {
    return { type: 'audio-chunk', data: { rate: this.rateHz, width: WIDTH_BYTES, channels: 1 }, payload: bytesFromPcm16(pcm) };
  }

  /** Reads until `transcript`; streamed chunks on the way are partials. */
  private async transcript(remainingMs: number): Promise<string> {
    const deadline = performance.now() + Math.max(1, remainingMs);
    let streamed = '';
    for (;;) {
      const event = await this.connection.next(Math.max(1, deadline - performance.now()), 'a transcript', 'ASR_TIMEOUT_MS');
      switch (event.type) {
        case 'transcript':
          return typeof event.data.text === 'string' ? event.data.text : streamed;
        case 'transcript-start':
          streamed = '';
          break;
        case 'transcript-chunk':
          if (typeof event.data.text === 'string') {
            streamed += event.data.text;
            this.partial(streamed);
          }
          break;
        default:
          break; // transcript-stop, and events of newer versions we do not know
      }
    }
  }
}
