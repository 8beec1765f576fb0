/**
 * The AsrStream of recognizers that transcribe one utterance at a time (OpenAI-compatible servers,
 * Wyoming): the session's VAD edges cut the audio into utterances (utterances.ts), each becomes a
 * job of the vendor's (a request, a connection), and their finals come out in the order the
 * utterances were spoken, whatever order the jobs finish in. Partials are passed on only for the
 * oldest utterance still open, so they never mix two utterances.
 *
 * A job that fails (after its own retries) fails the stream, as a Riva stream that cannot be
 * reopened does: the session reports it and opens a new stream with the next audio. Aborting the
 * signal, or the consumer leaving, aborts every job in flight, so the servers see it too.
 */
import { AsyncQueue } from '../../lib/async-queue.js';
import type { AsrResult, AsrStream, SpeechEdge } from '../types.js';
import { UtteranceCutter, type UtteranceSettings } from './utterances.js';

/** One utterance's transcription, as a vendor does it. */
export interface UtteranceJob {
  /** More audio of the utterance. */
  audio(pcm: Int16Array): void;
  /** No more audio: resolves with the final text ('' for none). */
  finish(): Promise<string>;
}

/** Starts a job for an utterance that begins with `lead`; `partial` takes its text so far. */
export type StartUtterance = (lead: Int16Array, partial: (text: string) => void, signal: AbortSignal) => UtteranceJob;

interface Open {
  id: number;
  job: UtteranceJob;
  abort: AbortController;
}

export class UtteranceAsrStream implements AsrStream {
  private readonly results: AsyncQueue<AsrResult>;
  private readonly cutter: UtteranceCutter;
  private current: Open | null = null;
  /** Resolves when every final so far is out, in order. */
  private tail: Promise<void> = Promise.resolve();
  private nextId = 0;
  /** Id of the oldest utterance whose final is not out yet. */
  private oldestOpen = 0;
  private readonly inFlight = new Set<AbortController>();
  private ended = false;
  private closed = false;
  private readonly onAbort = () => this.stop(null);

  constructor(
    settings: UtteranceSettings,
    private readonly start: StartUtterance,
    private readonly signal: AbortSignal,
  ) {
    this.results = new AsyncQueue<AsrResult>({ onReturn: () => this.stop(null) });
    this.cutter = new UtteranceCutter(settings, {
      begin: (lead) => this.begin(lead),
      audio: (pcm) => this.current?.job.audio(pcm),
      finish: () => this.finishCurrent(),
    });
    if (signal.aborted) this.stop(null);
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<AsrResult> {
    return this.results;
  }

  get awaitingFinal(): boolean {
    return !this.closed && (this.cutter.speaking || this.inFlight.size > 0);
  }

  write(pcm: Int16Array): void {
    if (!this.ended && !this.closed && pcm.length > 0) this.cutter.write(pcm);
  }

  speech(edge: SpeechEdge): void {
    if (!this.ended && !this.closed) this.cutter.speech(edge);
  }

  end(): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    this.cutter.end(); // an utterance in progress is transcribed as it is
    // The tail never rejects (each final's failure stops the stream itself).
    this.tail.then(() => this.stop(null), (error: unknown) => this.stop(error));
  }

  private begin(lead: Int16Array): void {
    const id = this.nextId++;
    const abort = new AbortController();
    this.inFlight.add(abort);
    const partial = (text: string) => {
      if (!this.closed && id === this.oldestOpen && text.trim()) this.results.push({ kind: 'partial', text: text.trim() });
    };
    this.current = { id, abort, job: this.start(lead, partial, AbortSignal.any([this.signal, abort.signal])) };
  }

  private finishCurrent(): void {
    const open = this.current;
    if (!open) return;
    this.current = null;
    const text = open.job.finish();
    text.catch(() => undefined); // awaited in turn below; not an unhandled rejection meanwhile
    this.tail = this.tail.then(async () => {
      try {
        const final = (await text).trim();
        if (final && !this.closed) this.results.push({ kind: 'final', text: final });
      } catch (error) {
        this.stop(error);
      } finally {
        this.inFlight.delete(open.abort);
        this.oldestOpen = open.id + 1;
      }
    });
  }

  /** Ends the stream: with `error`, the consumer gets it; every job still running is aborted. */
  private stop(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    for (const abort of this.inFlight) abort.abort();
    if (error === null) this.results.end();
    else this.results.fail(error);
  }
}
