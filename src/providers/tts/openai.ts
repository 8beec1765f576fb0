/**
 * Speech synthesis through `POST /v1/audio/speech` of an OpenAI-compatible server (Kokoro-FastAPI,
 * speaches, OpenAI). The answer is asked for as raw PCM (`response_format: "pcm"`: s16le mono, no
 * header) and read from the body as it arrives, so the first audio goes out while the server is
 * still synthesizing (Kokoro-FastAPI streams sentence by sentence, speaches chunk by chunk). The
 * PCM carries no rate: it is TTS_OPENAI_SAMPLE_RATE (OpenAI's and Kokoro's 24 kHz by default) and
 * is resampled here to the session's rate. Aborting the signal (barge-in) aborts the request.
 *
 * Voices (GET /v1/audio/voices) come as Kokoro-FastAPI's `{"voices": [{"id", "name"}]}` (or plain
 * names before its 0.3), or speaches' `{"voices": [{"name", "language", ...}]}`; OpenAI has no such
 * route. Kokoro voice names start with their language's letter (af_heart: American English), as
 * speaches' voice table (executors/kokoro.py) shows.
 */
import { pcm16FromBytes } from '../../audio/pcm.js';
import { authorization, endpoint, fetchError, httpFailure, readText, readWithin } from '../openai-speech/http.js';
import { ProviderError, type SpeechSynthesizer, type TtsChunk, type TtsOptions, type VoiceInfo } from '../types.js';
import { speaksLanguage } from '../voices.js';
import { ResamplerPool } from './resampler-pool.js';

export interface OpenAiTtsSettings {
  /** e.g. http://127.0.0.1:8880/v1 */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Rate of the PCM the server sends. */
  serverRateHz: number;
  /** Longest wait for the first audio of a piece, and between two chunks. */
  timeoutMs: number;
  maxPieceAudioMs: number;
  maxResponseBytes: number;
  /** The gateway's default language: what a voice the server cannot list is taken to speak. */
  language: string;
  /** TTS_VOICE: the voice when a session names none. */
  defaultVoice: string;
}

/** The voice when none is named and the server lists none: OpenAI's, which Kokoro-FastAPI maps too. */
const FALLBACK_VOICE = 'alloy';

/** Kokoro's language letters (the first of a voice name), as in speaches' Kokoro voice table. */
const KOKORO_LANGUAGES: Record<string, string> = { a: 'en-us', b: 'en-gb', e: 'es', f: 'fr-fr', h: 'hi', i: 'it', j: 'ja', p: 'pt-br', z: 'zh' };

type VoiceEntry = string | { id?: unknown; name?: unknown; language?: unknown };

export class OpenAiSynthesizer implements SpeechSynthesizer {
  readonly url: string;
  private readonly voicesUrl: string;
  private readonly resamplers = new ResamplerPool();
  /** The server's voices, asked once when a session names none. */
  private listed: Promise<VoiceInfo[]> | null = null;

  constructor(private readonly settings: OpenAiTtsSettings) {
    this.url = endpoint(settings.baseUrl, '/audio/speech');
    this.voicesUrl = endpoint(settings.baseUrl, '/audio/voices');
  }

  /** One request per piece of text: the core's splitter keeps pieces within TTS_MAX_PIECE_CHARS, far below OpenAI's 4096. */
  async *stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    const voice = opts.voice || this.settings.defaultVoice || (await this.voiceFor(opts.language));
    if (!signal.aborted) yield* this.synthesize(text, voice, opts.sampleRateHz, signal);
  }

  /** The server's voices; a server with no voice list offers the configured voice. */
  async listVoices(): Promise<VoiceInfo[]> {
    const s = this.settings;
    let response: Response;
    try {
      response = await fetch(this.voicesUrl, { headers: authorization(s.apiKey), signal: AbortSignal.timeout(s.timeoutMs) });
    } catch (error) {
      throw fetchError('tts', this.voicesUrl, error, error instanceof Error && error.name === 'TimeoutError' ? s.timeoutMs : undefined);
    }
    if (response.status === 404 || response.status === 405 || response.status === 501) {
      await response.body?.cancel();
      return [{ name: s.defaultVoice || FALLBACK_VOICE, languages: [s.language] }];
    }
    if (!response.ok) throw await httpFailure('tts', this.voicesUrl, response, s.model);
    const body = JSON.parse(await readText('tts', this.voicesUrl, response, s.maxResponseBytes)) as { voices?: VoiceEntry[] };
    return (body.voices ?? []).flatMap((entry) => {
      const name = typeof entry === 'string' ? entry : typeof entry.id === 'string' ? entry.id : entry.name;
      if (typeof name !== 'string' || !name) return [];
      const language = typeof entry === 'object' && typeof entry.language === 'string' ? entry.language : kokoroLanguage(name);
      return [{ name, languages: language ? [language] : [] }];
    });
  }

  /** A listed voice for the language, else OpenAI's default name. */
  private async voiceFor(language: string): Promise<string> {
    this.listed ??= this.listVoices().catch(() => {
      this.listed = null; // asked again next time
      return [];
    });
    return (await this.listed).find((v) => speaksLanguage(v, language))?.name ?? FALLBACK_VOICE;
  }

  private async *synthesize(text: string, voice: string, rateHz: number, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    const s = this.settings;
    // Our own controller also ends the request when the consumer stops early or a wait runs out.
    const local = new AbortController();
    let timedOut = false;
    const headersTimer = setTimeout(() => {
      timedOut = true;
      local.abort();
    }, s.timeoutMs);
    const resampler = await this.resamplers.take(s.serverRateHz, rateHz);
    const maxSamples = Math.round((s.maxPieceAudioMs * s.serverRateHz) / 1000);
    let samples = 0;
    let returned = false;
    try {
      let response: Response;
      try {
        response = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authorization(s.apiKey) },
          body: JSON.stringify({ model: s.model, input: text, voice, response_format: 'pcm' }),
          signal: AbortSignal.any([signal, local.signal]),
        });
      } catch (error) {
        if (signal.aborted) return;
        throw fetchError('tts', this.url, error, timedOut ? s.timeoutMs : undefined);
      } finally {
        clearTimeout(headersTimer);
      }
      if (!response.ok) throw await httpFailure('tts', this.url, response, s.model);
      if (!response.body) throw new ProviderError('tts', `the speech server at ${this.url} answered with an empty body`);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let carry: number | null = null; // a chunk may end in the middle of a sample
      for (;;) {
        const { done, value } = await readWithin(reader, s.timeoutMs, () => this.stalled(samples));
        if (signal.aborted) return;
        if (done) break;
        const bytes: Uint8Array = carry === null ? value : Buffer.concat([Uint8Array.of(carry), value]);
        carry = bytes.length % 2 === 1 ? bytes[bytes.length - 1]! : null;
        let pcm = pcm16FromBytes(carry === null ? bytes : bytes.subarray(0, bytes.length - 1));
        if (samples + pcm.length > maxSamples) {
          pcm = pcm.subarray(0, maxSamples - samples);
          yield { pcm: resampler ? resampler.process(pcm) : pcm, sampleRateHz: rateHz };
          throw new ProviderError('tts', `the speech server at ${this.url} sent more than ${s.maxPieceAudioMs} ms of audio for ${text.length} characters: cut off there (TTS_MAX_PIECE_AUDIO_MS)`);
        }
        samples += pcm.length;
        if (pcm.length > 0) yield { pcm: resampler ? resampler.process(pcm) : pcm, sampleRateHz: rateHz };
      }
      if (samples === 0) throw new ProviderError('tts', `the speech server at ${this.url} sent no audio for "${text.slice(0, 60)}": check TTS_MODEL and TTS_VOICE`);
      const rest = this.resamplers.give(resampler);
      returned = true;
      if (rest.length > 0) yield { pcm: rest, sampleRateHz: rateHz };
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ProviderError) throw error;
      const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw new ProviderError('tts', `the speech from ${this.url} broke off after ${Math.round((samples * 1000) / s.serverRateHz)} ms of audio: ${cause}`);
    } finally {
      clearTimeout(headersTimer);
      local.abort(); // nothing when the body was read; stops the server when we leave early
      if (!returned) resampler?.destroy();
    }
  }

  private stalled(samples: number): ProviderError {
    const what = samples === 0 ? 'sent no audio' : 'stalled: no audio came';
    return new ProviderError('tts', `the speech server at ${this.url} ${what} for ${this.settings.timeoutMs} ms (TTS_TIMEOUT_MS); it may be overloaded`);
  }
}

function kokoroLanguage(name: string): string | undefined {
  return /^[a-z][fm]_/.test(name) ? KOKORO_LANGUAGES[name[0]!] : undefined;
}
