/**
 * The Wyoming protocol's framing (rhasspy/wyoming `wyoming/event.py`, README): each event is one
 * line of JSON `{"type", "data"?, "data_length"?, "payload_length"?, "version"?}` and a newline,
 * then `data_length` bytes of JSON merged over the header's `data`, then `payload_length` bytes of
 * payload (PCM). The Python library writes `data` as the separate bytes and `version` in the
 * header; older writers put `data` in the header line. Both are read here; we write the library's
 * way. Every length is bounded by `maxEventBytes`, so a peer cannot make us buffer without end.
 */

export type WyomingEvent = { type: string; data: Record<string, unknown>; payload?: Uint8Array };

/** The protocol version we speak (wyoming 1.7: streaming transcripts and synthesis events). */
const VERSION = '1.7.0';

export class WyomingProtocolError extends Error {
  override name = 'WyomingProtocolError';
}

export function encodeEvent(event: WyomingEvent): Buffer {
  const data = Object.keys(event.data).length > 0 ? Buffer.from(JSON.stringify(event.data), 'utf8') : null;
  const header: Record<string, unknown> = { type: event.type, version: VERSION };
  if (data) header.data_length = data.length;
  if (event.payload && event.payload.length > 0) header.payload_length = event.payload.length;
  const parts: Uint8Array[] = [Buffer.from(`${JSON.stringify(header)}\n`, 'utf8')];
  if (data) parts.push(data);
  if (event.payload && event.payload.length > 0) parts.push(event.payload);
  return Buffer.concat(parts);
}

type Header = { type: string; data: Record<string, unknown>; dataLength: number; payloadLength: number };

/** Turns bytes as they come into events. */
export class EventDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private header: Header | null = null;

  constructor(private readonly maxEventBytes: number) {}

  /** The events completed by `chunk`. Throws a WyomingProtocolError on bytes that are not Wyoming. */
  push(chunk: Buffer): WyomingEvent[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const events: WyomingEvent[] = [];
    for (;;) {
      if (!this.header) {
        const newline = this.buffer.indexOf(0x0a);
        if (newline < 0) {
          if (this.buffer.length > this.maxEventBytes) throw new WyomingProtocolError(`an event header is longer than ${this.maxEventBytes} bytes (SPEECH_MAX_MESSAGE_BYTES)`);
          return events;
        }
        this.header = this.parseHeader(this.buffer.subarray(0, newline).toString('utf8'));
        this.buffer = this.buffer.subarray(newline + 1);
      }
      const { dataLength, payloadLength } = this.header;
      if (this.buffer.length < dataLength + payloadLength) return events;
      const header = this.header;
      this.header = null;
      const data = dataLength > 0 ? { ...header.data, ...this.parseData(this.buffer.subarray(0, dataLength).toString('utf8'), header.type) } : header.data;
      const payload = payloadLength > 0 ? new Uint8Array(this.buffer.subarray(dataLength, dataLength + payloadLength)) : undefined;
      this.buffer = this.buffer.subarray(dataLength + payloadLength);
      events.push(payload ? { type: header.type, data, payload } : { type: header.type, data });
    }
  }

  private parseHeader(line: string): Header {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new WyomingProtocolError(`not a Wyoming event header: ${JSON.stringify(line.slice(0, 80))}`);
    }
    const h = parsed as { type?: unknown; data?: unknown; data_length?: unknown; payload_length?: unknown };
    if (typeof h !== 'object' || h === null || typeof h.type !== 'string') throw new WyomingProtocolError(`an event header without a type: ${line.slice(0, 80)}`);
    const dataLength = this.length(h.data_length, 'data_length', h.type);
    const payloadLength = this.length(h.payload_length, 'payload_length', h.type);
    if (dataLength + payloadLength > this.maxEventBytes) {
      throw new WyomingProtocolError(`event "${h.type}" announces ${dataLength + payloadLength} bytes, more than ${this.maxEventBytes} (SPEECH_MAX_MESSAGE_BYTES)`);
    }
    const data = typeof h.data === 'object' && h.data !== null ? (h.data as Record<string, unknown>) : {};
    return { type: h.type, data, dataLength, payloadLength };
  }

  private length(value: unknown, field: string, type: string): number {
    if (value === undefined || value === null) return 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new WyomingProtocolError(`event "${type}" has a bad ${field}: ${JSON.stringify(value)}`);
    return value;
  }

  private parseData(text: string, type: string): Record<string, unknown> {
    try {
      const data = JSON.parse(text) as unknown;
      if (typeof data === 'object' && data !== null) return data as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new WyomingProtocolError(`event "${type}" has data that is not a JSON object`);
  }
}

/** A program's model or voice in `info`. */
export interface WyomingArtifact {
  name: string;
  installed: boolean;
  languages: string[];
}

/** The parts of `info` the gateway reads (wyoming/info.py: AsrProgram, TtsProgram). */
export interface WyomingInfo {
  asr: Array<{ name: string; installed: boolean; models: WyomingArtifact[]; supportsTranscriptStreaming: boolean }>;
  tts: Array<{ name: string; installed: boolean; voices: WyomingArtifact[]; supportsSynthesizeStreaming: boolean }>;
}

export function parseInfo(data: Record<string, unknown>): WyomingInfo {
  const list = (value: unknown): Array<Record<string, unknown>> => (Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : []);
  const artifact = (a: Record<string, unknown>): WyomingArtifact => ({
    name: typeof a.name === 'string' ? a.name : '',
    installed: a.installed !== false,
    languages: Array.isArray(a.languages) ? a.languages.filter((l): l is string => typeof l === 'string') : [],
  });
  return {
    asr: list(data.asr).map((p) => ({ ...artifact(p), models: list(p.models).map(artifact), supportsTranscriptStreaming: p.supports_transcript_streaming === true })),
    tts: list(data.tts).map((p) => ({ ...artifact(p), voices: list(p.voices).map(artifact), supportsSynthesizeStreaming: p.supports_synthesize_streaming === true })),
  };
}
