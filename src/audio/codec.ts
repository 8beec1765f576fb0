/**
 * Wire encodings a client may choose for audio in and out; everything inside the gateway is
 * mono PCM16 samples, so each chunk is decoded on arrival and encoded on departure.
 */
import { decodeG711, encodeG711 } from './g711.js';
import { bytesFromPcm16, pcm16FromBytes } from './pcm.js';

export const AUDIO_ENCODINGS = ['pcm16', 'mulaw', 'alaw'] as const;
export type AudioEncoding = (typeof AUDIO_ENCODINGS)[number];

/** Wire bytes to samples. Throws AudioFormatError for an odd-length pcm16 chunk. */
export function decodeAudio(bytes: Uint8Array, encoding: AudioEncoding): Int16Array {
  switch (encoding) {
    case 'pcm16':
      return pcm16FromBytes(bytes);
    case 'mulaw':
    case 'alaw':
      return decodeG711(bytes, encoding);
  }
}

/** Samples to wire bytes. */
export function encodeAudio(pcm: Int16Array, encoding: AudioEncoding): Uint8Array {
  switch (encoding) {
    case 'pcm16':
      return bytesFromPcm16(pcm);
    case 'mulaw':
    case 'alaw':
      return encodeG711(pcm, encoding);
  }
}
