/**
 * G.711 (telephony) companding: one byte per sample, 8 kHz by convention. mu-law is used in North
 * America and Japan (Twilio media streams), a-law elsewhere. alawmulaw implements the ITU tables.
 */
import alawmulaw from 'alawmulaw';

export type G711Law = 'mulaw' | 'alaw';

/** G.711 bytes to 16-bit samples (one sample per byte). */
export function decodeG711(bytes: Uint8Array, law: G711Law): Int16Array {
  return law === 'mulaw' ? alawmulaw.mulaw.decode(bytes) : alawmulaw.alaw.decode(bytes);
}

/** 16-bit samples to G.711 bytes (lossy: about 13-14 bits of dynamic range survive). */
export function encodeG711(pcm: Int16Array, law: G711Law): Uint8Array {
  return law === 'mulaw' ? alawmulaw.mulaw.encode(pcm) : alawmulaw.alaw.encode(pcm);
}
