/**
 * Raw PCM helpers. Internal audio is mono signed 16-bit PCM in an Int16Array; on the wire it is
 * little-endian bytes (the common order for WAV, telephony and browsers), whatever the host's order.
 */

/** Audio bytes that cannot be what they claim to be (odd PCM16 length, not a WAV file, ...). */
export class AudioFormatError extends Error {
  override readonly name = 'AudioFormatError';
}

const BYTES_PER_SAMPLE = 2;
/** Full scale of int16: a sample of -32768 is exactly 0 dBFS. */
const INT16_FULL_SCALE = 32768;
/** rmsDbfs of digital silence: finite so callers can compare and log it without special cases. */
export const SILENCE_DBFS = -100;

/** Little-endian bytes to samples. Throws AudioFormatError when the length is odd. */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  if (bytes.byteLength % BYTES_PER_SAMPLE !== 0) {
    throw new AudioFormatError(`PCM16 audio must hold whole 2-byte samples; got ${bytes.byteLength} bytes`);
  }
  const samples = bytes.byteLength / BYTES_PER_SAMPLE;
  // DataView reads little-endian regardless of host order and of alignment: an Int16Array view
  // would need an even byteOffset (protobuf and ws hand out slices of a larger buffer) and a
  // little-endian host.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = view.getInt16(i * BYTES_PER_SAMPLE, true);
  return pcm;
}

/** Samples to little-endian bytes (a fresh buffer, so the caller may keep or transfer it). */
export function bytesFromPcm16(pcm: Int16Array): Uint8Array {
  const bytes = new Uint8Array(pcm.length * BYTES_PER_SAMPLE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * BYTES_PER_SAMPLE, pcm[i]!, true);
  return bytes;
}

/** Several chunks as one (the chunk itself when there is one). */
export function concatPcm(parts: readonly Int16Array[]): Int16Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** How long `samples` mono samples last at `sampleRateHz`, in milliseconds (not rounded). */
export function durationMs(samples: number, sampleRateHz: number): number {
  if (!(sampleRateHz > 0)) throw new RangeError(`sample rate must be positive; got ${sampleRateHz}`);
  return (samples * 1000) / sampleRateHz;
}

/**
 * Loudness as RMS relative to full scale, in dBFS: 0 for a full-scale square wave, about -3 for a
 * full-scale sine, SILENCE_DBFS for silence or no samples.
 */
export function rmsDbfs(pcm: Int16Array): number {
  if (pcm.length === 0) return SILENCE_DBFS;
  let sumSquares = 0;
  for (const sample of pcm) sumSquares += sample * sample;
  const rms = Math.sqrt(sumSquares / pcm.length) / INT16_FULL_SCALE;
  return rms === 0 ? SILENCE_DBFS : Math.max(SILENCE_DBFS, 20 * Math.log10(rms));
}
