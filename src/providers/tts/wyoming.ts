/**
 * Speech synthesis on a Wyoming server (wyoming-piper and its kin). Each piece of text is one
 * connection: `synthesize` {text, voice?: {name}}, answered by `audio-start` {rate, width,
 * channels}, `audio-chunk`s and `audio-stop`. The audio comes at the voice's own rate (Piper's
 * are 16 or 22.05 kHz) and is resampled here to the session's. Aborting the signal (barge-in)
 * closes the connection, so the server stops sending.
 *
 * Voices come from `describe`/`info` (tts programs' `voices`); wyoming-piper lists every voice it
 * could download, marking the ones it has as installed, so only those are offered when any are.
 */
import { pcm16FromBytes } from '../../audio/pcm.js';
import { ProviderError, type SpeechSynthesizer, type TtsChunk, type TtsOptions, type VoiceInfo } from '../types.js';
import { describe, WyomingConnection, type WyomingAddress } from '../wyoming/connection.js';
import { ResamplerPool } from './resampler-pool.js';

export interface WyomingTtsSettings {
  address: WyomingAddress;
  /** Longest wait for the first audio of a piece, and between two events of it. */
  timeoutMs: number;
  maxPieceAudioMs: number;
  maxEventBytes: number;
}

export class WyomingSynthesizer implements SpeechSynthesizer {
  private readonly resamplers = new ResamplerPool();

  constructor(readonly settings: WyomingTtsSettings) {}

  /** One connection per piece of text (the core's splitter bounds its length). */
  async *stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    if (!signal.aborted) yield* this.synthesize(text, opts, signal);
  }

  async listVoices(): Promise<VoiceInfo[]> {
    const s = this.settings;
    const info = await describe(s.address, 'tts', { timeoutMs: s.timeoutMs, timeoutSetting: 'TTS_TIMEOUT_MS', maxEventBytes: s.maxEventBytes });
    const voices = info.tts.flatMap((program) => program.voices).filter((v) => v.name);
    const installed = voices.filter((v) => v.installed);
    return (installed.length > 0 ? installed : voices).map((v) => ({ name: v.name, languages: v.languages }));
  }

  private async *synthesize(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    const s = this.settings;
    const local = new AbortController(); // also closes the connection when the consumer leaves early
    const connection = new WyomingConnection(s.address, 'tts', s.maxEventBytes, AbortSignal.any([signal, local.signal]));
    const uri = s.address.uri;
    let format: { rateHz: number; maxSamples: number } | null = null;
    let resampler: Awaited<ReturnType<ResamplerPool['take']>> = null;
    let samples = 0;
    let returned = false;
    try {
      connection.send({ type: 'synthesize', data: { text, ...(opts.voice && { voice: { name: opts.voice } }) } });
      for (;;) {
        const event = await connection.next(s.timeoutMs, format ? 'more audio' : 'audio', 'TTS_TIMEOUT_MS');
        if (signal.aborted) return;
        if (event.type === 'audio-start' || (event.type === 'audio-chunk' && !format)) {
          format = this.formatOf(event.data);
          resampler ??= await this.resamplers.take(format.rateHz, opts.sampleRateHz);
        }
        if (event.type === 'audio-chunk' && event.payload && format) {
          let pcm = pcm16FromBytes(event.payload.length % 2 === 0 ? event.payload : event.payload.subarray(0, event.payload.length - 1));
          const over = samples + pcm.length > format.maxSamples;
          if (over) pcm = pcm.subarray(0, format.maxSamples - samples);
          samples += pcm.length;
          if (pcm.length > 0) yield { pcm: resampler ? resampler.process(pcm) : pcm, sampleRateHz: opts.sampleRateHz };
          if (over) throw new ProviderError('tts', `the Wyoming server at ${uri} sent more than ${s.maxPieceAudioMs} ms of audio for ${text.length} characters: cut off there (TTS_MAX_PIECE_AUDIO_MS)`);
        }
        if (event.type === 'audio-stop') break;
      }
      if (samples === 0) throw new ProviderError('tts', `the Wyoming server at ${uri} sent no audio for "${text.slice(0, 60)}": check TTS_VOICE against its voices (\`voice-gateway doctor\` lists them)`);
      const rest = this.resamplers.give(resampler);
      returned = true;
      if (rest.length > 0) yield { pcm: rest, sampleRateHz: opts.sampleRateHz };
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    } finally {
      local.abort();
      connection.close();
      if (!returned) resampler?.destroy();
    }
  }

  /** The audio format of `audio-start` (or of a first chunk, from servers that skip it). */
  private formatOf(data: Record<string, unknown>): { rateHz: number; maxSamples: number } {
    const { rate, width, channels } = data;
    if (typeof rate !== 'number' || rate < 8000 || rate > 192000 || width !== 2 || channels !== 1) {
      throw new ProviderError('tts', `the Wyoming server at ${this.settings.address.uri} sends ${JSON.stringify({ rate, width, channels })} audio: the gateway takes 16-bit (width 2) mono at 8000 to 192000 Hz`);
    }
    return { rateHz: rate, maxSamples: Math.round((this.settings.maxPieceAudioMs * rate) / 1000) };
  }
}
