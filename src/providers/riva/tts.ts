/**
 * Streaming speech synthesis on NVIDIA Riva (SynthesizeOnline), wire-compatible with Riva servers,
 * speech NIMs and NVIDIA's hosted endpoints.
 *
 * SynthesizeOnline became bidirectional in Riva 2.25; before, it took one request. One request then
 * a half-close works with both, so each piece of text is one call. Text longer than `maxChars`
 * is cut into pieces first (Magpie rejects long requests). Audio comes back as raw s16le PCM at
 * the rate asked for. Aborting the signal (barge-in) cancels the call, so the server stops too.
 *
 * No word timings: Riva's response has none. Its experimental `meta.predicted_durations` are per
 * symbol of the normalized text, in units the API does not state, so the core keeps its
 * proportional estimate of the heard text for Riva voices (and response_done says so).
 */
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { pcm16FromBytes } from '../../audio/pcm.js';
import { AudioEncoding } from '../../gen/riva/proto/riva_audio_pb.js';
import { RivaSpeechSynthesis, SynthesizeSpeechRequestSchema, type SynthesizeSpeechResponse } from '../../gen/riva/proto/riva_tts_pb.js';
import type { RivaChannel } from './channel.js';
import { rivaVoices } from './discovery.js';
import { rivaError } from './errors.js';
import type { SpeechSynthesizer, TtsChunk, TtsOptions, VoiceInfo } from '../types.js';
import { splitForTts } from './text-pieces.js';

export interface RivaTtsSettings {
  /** Longest text of one request. */
  maxChars: number;
  /** Deadline of one SynthesizeOnline call (one piece of text). */
  timeoutMs: number;
  /** Deadline of GetRivaSynthesisConfig. */
  configTimeoutMs: number;
}

export class RivaSynthesizer implements SpeechSynthesizer {
  constructor(
    private readonly channel: RivaChannel,
    private readonly settings: RivaTtsSettings,
  ) {}

  async *stream(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    for (const piece of splitForTts(text, this.settings.maxChars)) {
      if (signal.aborted) return;
      yield* this.synthesize(piece, opts, signal);
    }
  }

  /** The voices of GetRivaSynthesisConfig. */
  async listVoices(): Promise<VoiceInfo[]> {
    try {
      return await rivaVoices(this.channel, this.settings.configTimeoutMs);
    } catch (error) {
      throw rivaError('tts', 'voice listing', this.channel, error, 'RIVA_TIMEOUT_MS');
    }
  }

  private async *synthesize(text: string, opts: TtsOptions, signal: AbortSignal): AsyncGenerator<TtsChunk> {
    const call = this.channel.bidi(RivaSpeechSynthesis.method.synthesizeOnline, { service: 'tts', deadlineMs: this.settings.timeoutMs });
    const cancel = () => call.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    // A chunk may end in the middle of a sample; its first byte waits for the next chunk.
    let carry: number | null = null;
    try {
      call.write(
        create(SynthesizeSpeechRequestSchema, {
          text,
          languageCode: opts.language,
          encoding: AudioEncoding.LINEAR_PCM,
          sampleRateHz: opts.sampleRateHz,
          voiceName: opts.voice,
          id: { value: `voice-gateway-tts-${randomUUID()}` }, // Riva logs and echoes it
        }),
      );
      call.end();
      for await (const response of call as AsyncIterable<SynthesizeSpeechResponse>) {
        if (signal.aborted) return;
        const bytes: Uint8Array = carry === null ? response.audio : prepend(carry, response.audio);
        carry = bytes.length % 2 === 1 ? bytes[bytes.length - 1]! : null;
        const pcm = pcm16FromBytes(carry === null ? bytes : bytes.subarray(0, bytes.length - 1));
        if (pcm.length > 0) yield { pcm, sampleRateHz: opts.sampleRateHz };
      }
    } catch (error) {
      if (signal.aborted) return;
      throw rivaError('tts', 'speech synthesis', this.channel, error, 'RIVA_TTS_TIMEOUT_MS');
    } finally {
      signal.removeEventListener('abort', cancel);
      call.cancel(); // nothing when the call is over; stops the server when the consumer left early
    }
  }
}

function prepend(byte: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = byte;
  out.set(bytes, 1);
  return out;
}
