/**
 * AudioSocket framing (docs.asterisk.org, Channel Drivers > AudioSocket): every message is a
 * 1-byte kind, a 2-byte big-endian payload length and the payload. Audio is signed 16-bit
 * little-endian mono PCM whose rate the kind names (0x10: 8 kHz ... 0x16: 48 kHz; 0x17 and 0x18,
 * 96 and 192 kHz, are beyond what a session takes).
 */
export const KIND = { hangup: 0x00, uuid: 0x01, dtmf: 0x03, error: 0xff } as const;

const AUDIO_RATES_HZ: Record<number, number> = { 0x10: 8000, 0x11: 12000, 0x12: 16000, 0x13: 24000, 0x14: 32000, 0x15: 44100, 0x16: 48000 };

/** The sample rate of an audio kind, or null when `kind` is not audio this gateway takes. */
export function audioRateHz(kind: number): number | null {
  return AUDIO_RATES_HZ[kind] ?? null;
}

export function isAudioKind(kind: number): boolean {
  return kind >= 0x10 && kind <= 0x18;
}

export interface AudioSocketMessage {
  kind: number;
  payload: Buffer;
}

export function encodeMessage(kind: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(3 + payload.length);
  out[0] = kind;
  out.writeUInt16BE(payload.length, 1);
  out.set(payload, 3);
  return out;
}

/** Cuts a TCP byte stream into messages; holds at most one message's bytes (3 + 65535). */
export class MessageReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): AudioSocketMessage[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: AudioSocketMessage[] = [];
    while (this.buffered.length >= 3) {
      const length = this.buffered.readUInt16BE(1);
      if (this.buffered.length < 3 + length) break;
      messages.push({ kind: this.buffered[0]!, payload: this.buffered.subarray(3, 3 + length) });
      this.buffered = this.buffered.subarray(3 + length);
    }
    return messages;
  }
}
