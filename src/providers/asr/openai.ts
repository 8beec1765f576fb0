/**
 * Speech recognition through `POST /v1/audio/transcriptions` of an OpenAI-compatible server
 * (speaches, vLLM, LocalAI, OpenAI). The endpoint takes a whole file, so the session's VAD cuts
 * the audio into utterances (utterance-stream.ts) and each goes up as a 16 kHz WAV when it ends.
 * Partials come from the server's SSE deltas where it streams, and, for an utterance that goes on,
 * from transcribing its audio so far again every ASR_OPENAI_PARTIAL_INTERVAL_MS (one such request
 * at a time; the window is the utterance so far, which ASR_MAX_UTTERANCE_MS bounds).
 *
 * The streamed shapes differ per server (read from their sources):
 * - OpenAI: `transcript.text.delta` {delta} events, then `transcript.text.done` {text};
 * - speaches 0.8 (its last release, routers/stt.py): one `{"text": "<segment>"}` per decoded
 *   segment, and the stream just ends;
 * - speaches main (executors/whisper.py): OpenAI's events, but `done` carries an empty text (its
 *   segment generator was already used up by the deltas), so the deltas are the transcript;
 * - vLLM (speech_to_text.py): chat-like `transcription.chunk` objects with
 *   `choices[0].delta.content`, an `{"error": ...}` object if it fails mid-stream, then `[DONE]`.
 * A server that does not stream answers JSON `{"text": ...}`, which is read the same way.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { concatPcm } from '../../audio/pcm.js';
import { writeWav } from '../../audio/wav.js';
import { authorization, endpoint, fetchError, httpFailure, readText, SpeechHttpError } from '../openai-speech/http.js';
import type { AsrOptions, AsrStream, SpeechRecognizer } from '../types.js';
import { UtteranceAsrStream, type UtteranceJob } from './utterance-stream.js';

export interface OpenAiAsrSettings {
  /** e.g. http://127.0.0.1:8000/v1 */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Ask for SSE deltas (stream=true). */
  stream: boolean;
  /** 0: no partials from re-transcribing a long utterance. */
  partialIntervalMs: number;
  maxUtteranceMs: number;
  paddingMs: number;
  /** Longest time one utterance's transcription may take, retries included. */
  timeoutMs: number;
  retries: number;
  maxResponseBytes: number;
}

/** Whisper's rate; the servers resample anything else to it. */
const UPLOAD_RATE_HZ = 16000;
/** Wait before sending a failed utterance again, doubled for each further try. */
const RETRY_BACKOFF_MS = 200;

type Transcription = { text?: unknown; error?: unknown };
type StreamEvent = Transcription & {
  type?: unknown;
  delta?: unknown;
  object?: unknown;
  choices?: Array<{ delta?: { content?: unknown } }>;
};

export class OpenAiRecognizer implements SpeechRecognizer {
  readonly sampleRateHz = UPLOAD_RATE_HZ;
  readonly url: string;

  constructor(readonly settings: OpenAiAsrSettings) {
    this.url = endpoint(settings.baseUrl, '/audio/transcriptions');
  }

  stream(opts: AsrOptions, signal: AbortSignal): AsrStream {
    // ISO-639-1 is what the endpoint takes ("en", not "en-US"); vLLM checks it against Whisper's list.
    const language = opts.language.split('-')[0]!.toLowerCase();
    const s = this.settings;
    return new UtteranceAsrStream(
      { sampleRateHz: opts.sampleRateHz, paddingMs: s.paddingMs, maxUtteranceMs: s.maxUtteranceMs },
      (lead, partial, jobSignal) => new Utterance(this, language, opts.sampleRateHz, lead, partial, jobSignal),
      signal,
    );
  }

  /**
   * One utterance to text, sent again on failures worth it, all within `timeoutMs`.
   * `onText` gets the text so far while a streamed answer comes in.
   */
  async transcribe(pcm: Int16Array, rateHz: number, language: string, stream: boolean, signal: AbortSignal, onText?: (text: string) => void): Promise<string> {
    const s = this.settings;
    const deadline = AbortSignal.timeout(s.timeoutMs);
    const wav = writeWav(pcm, rateHz);
    const either = AbortSignal.any([signal, deadline]);
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt > 0) await sleepUnless(RETRY_BACKOFF_MS * 2 ** (attempt - 1), either);
        return await this.once(wav, language, stream, either, onText);
      } catch (error) {
        if (signal.aborted) throw error;
        if (deadline.aborted) throw fetchError('asr', this.url, error, s.timeoutMs);
        if (!(error instanceof SpeechHttpError && error.resend) || attempt >= s.retries) throw error;
      }
    }
  }

  private async once(wav: Uint8Array, language: string, stream: boolean, signal: AbortSignal, onText?: (text: string) => void): Promise<string> {
    const s = this.settings;
    const form = new FormData();
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'utterance.wav');
    form.append('model', s.model);
    form.append('response_format', 'json');
    form.append('temperature', '0');
    if (language) form.append('language', language);
    if (stream) form.append('stream', 'true');
    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', body: form, headers: { accept: 'application/json, text/event-stream', ...authorization(s.apiKey) }, signal });
    } catch (error) {
      throw fetchError('asr', this.url, error);
    }
    if (!response.ok) throw await httpFailure('asr', this.url, response, s.model);
    try {
      if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) return await this.readEvents(response, onText);
      return this.textOf(await readText('asr', this.url, response, s.maxResponseBytes), response.headers.get('content-type') ?? '');
    } catch (error) {
      if (error instanceof SpeechHttpError) throw error;
      // The connection broke in the middle of the answer: worth another try.
      throw new SpeechHttpError('asr', `the transcription from ${this.url} broke off: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`, true);
    }
  }

  private textOf(body: string, contentType: string): string {
    if (!contentType.includes('json')) return body; // response_format text, from a server that ignored ours
    let parsed: Transcription;
    try {
      parsed = JSON.parse(body) as Transcription;
    } catch {
      throw new SpeechHttpError('asr', `the transcription server at ${this.url} sent malformed JSON: ${body.slice(0, 200)}`, false);
    }
    if (typeof parsed.text !== 'string') throw this.serverError(parsed.error ?? body.slice(0, 200));
    return parsed.text;
  }

  private async readEvents(response: Response, onText?: (text: string) => void): Promise<string> {
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e) });
    let text = '';
    let doneText: string | undefined;
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break; // speaches 0.8 just ends the stream
      bytes += value.byteLength;
      if (bytes > this.settings.maxResponseBytes) {
        await reader.cancel();
        throw new SpeechHttpError('asr', `the transcription stream from ${this.url} passed ${this.settings.maxResponseBytes} bytes (SPEECH_MAX_MESSAGE_BYTES)`, false);
      }
      parser.feed(decoder.decode(value, { stream: true }));
      for (const event of events.splice(0)) {
        if (event.data.trim() === '[DONE]') return doneText || text.trim(); // vLLM
        const delta = this.deltaOf(event.data);
        if (delta.done !== undefined) doneText = delta.done.trim();
        if (delta.text) {
          text += delta.text;
          onText?.(text);
        }
      }
    }
    return doneText || text.trim();
  }

  /** The text an event adds, or the whole transcript it announces (`done`). */
  private deltaOf(data: string): { text?: string; done?: string } {
    let event: StreamEvent;
    try {
      event = JSON.parse(data) as StreamEvent;
    } catch {
      throw new SpeechHttpError('asr', `the transcription server at ${this.url} sent malformed JSON in its event stream: ${data.slice(0, 200)}`, false);
    }
    if (event.error) throw this.serverError(event.error);
    if (event.type === 'transcript.text.delta') return { text: typeof event.delta === 'string' ? event.delta : '' };
    if (event.type === 'transcript.text.done') return { done: typeof event.text === 'string' ? event.text : '' };
    if (Array.isArray(event.choices)) {
      const content = event.choices[0]?.delta?.content;
      return { text: typeof content === 'string' ? content : '' };
    }
    return { text: typeof event.text === 'string' ? event.text : '' }; // speaches 0.8: one segment
  }

  private serverError(error: unknown): SpeechHttpError {
    const message = (error as { message?: unknown })?.message;
    const detail = typeof error === 'string' ? error : typeof message === 'string' ? message : JSON.stringify(error);
    const hint = this.settings.stream ? '; if this model cannot stream (speaches\' parakeet models), set ASR_OPENAI_STREAM=false' : '';
    return new SpeechHttpError('asr', `the transcription server at ${this.url} reported an error: ${detail.slice(0, 300)}${hint}`, false);
  }
}

/** One utterance: its audio is kept until it ends, with partials from its audio so far. */
class Utterance implements UtteranceJob {
  private readonly chunks: Int16Array[];
  private samples: number;
  /** Length of the utterance when the last partial was asked for. */
  private partialAtSamples = 0;
  private partialRequest: AbortController | null = null;
  private finished = false;
  private readonly intervalSamples: number;

  constructor(
    private readonly recognizer: OpenAiRecognizer,
    private readonly language: string,
    private readonly rateHz: number,
    lead: Int16Array,
    private readonly partial: (text: string) => void,
    private readonly signal: AbortSignal,
  ) {
    this.chunks = [lead];
    this.samples = lead.length;
    this.intervalSamples = Math.round((recognizer.settings.partialIntervalMs * rateHz) / 1000);
  }

  audio(pcm: Int16Array): void {
    this.chunks.push(pcm);
    this.samples += pcm.length;
    if (this.intervalSamples > 0 && !this.partialRequest && this.samples - this.partialAtSamples >= this.intervalSamples) this.askPartial();
  }

  finish(): Promise<string> {
    this.finished = true;
    this.partialRequest?.abort(); // the final supersedes it
    return this.recognizer.transcribe(concatPcm(this.chunks), this.rateHz, this.language, this.recognizer.settings.stream, this.signal, this.partial);
  }

  /** The audio so far, transcribed without streaming; its text is a partial unless the final came first. */
  private askPartial(): void {
    const request = new AbortController();
    this.partialRequest = request;
    this.partialAtSamples = this.samples;
    this.recognizer
      .transcribe(concatPcm(this.chunks), this.rateHz, this.language, false, AbortSignal.any([this.signal, request.signal]))
      .then(
        (text) => {
          if (!this.finished) this.partial(text);
        },
        () => undefined, // a partial that fails says nothing: the final tells
      )
      .finally(() => {
        if (this.partialRequest === request) this.partialRequest = null;
      });
  }
}

function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });
}
