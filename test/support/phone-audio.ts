/** Caller audio for the phone-call tests: 8 kHz, as a phone network carries it. */
import { encodeG711 } from '../../src/audio/g711.js';
import { bytesFromPcm16 } from '../../src/audio/pcm.js';
import { resampleAll } from '../../src/audio/resampler.js';
import { tone } from './scripted-providers.js';
import { FIXTURE_SAMPLE_RATE_HZ, silence, speechFixture } from './speech-fixtures.js';

export const PHONE_RATE_HZ = 8000;

/** A question spoken by flite, resampled to 8 kHz by the project's resampler and mu-law encoded. */
export async function mulawSpeech(text: string): Promise<Uint8Array> {
  const pcm = await resampleAll(await speechFixture(text), FIXTURE_SAMPLE_RATE_HZ, PHONE_RATE_HZ);
  return encodeG711(pcm, 'mulaw');
}

/** A voiced tone (the scripted VAD and ASR hear it as speech), mu-law. */
export const mulawTone = (ms: number): Uint8Array => encodeG711(tone(ms, PHONE_RATE_HZ), 'mulaw');
export const mulawSilence = (ms: number): Uint8Array => encodeG711(silence(ms, PHONE_RATE_HZ), 'mulaw');
/** The same, as 16-bit little-endian PCM (AudioSocket, Asterisk slin). */
export const slinTone = (ms: number, rateHz = PHONE_RATE_HZ): Uint8Array => bytesFromPcm16(tone(ms, rateHz));
export const slinSilence = (ms: number, rateHz = PHONE_RATE_HZ): Uint8Array => bytesFromPcm16(silence(ms, rateHz));

/** Sends `audio` in frames of `frameBytes`, one per 20 ms of wall-clock time, as a carrier does; stops when `send` returns false (the line is gone). */
export async function sendPaced(audio: Uint8Array, frameBytes: number, send: (frame: Uint8Array) => boolean): Promise<void> {
  const startedAt = performance.now();
  for (let at = 0, i = 0; at < audio.length; at += frameBytes, i++) {
    if (!send(audio.subarray(at, at + frameBytes))) return;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + (i + 1) * 20 - performance.now())));
  }
}
