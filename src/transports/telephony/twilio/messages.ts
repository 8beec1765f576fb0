/**
 * Twilio Media Streams messages (twilio.com/docs/voice/media-streams/websocket-messages): JSON
 * text frames with an `event` field. In: connected, start, media, dtmf, mark, stop. Out: media
 * (base64 mu-law 8 kHz, no header), mark, clear. Telnyx's look-alike names ids in snake_case
 * (`stream_id`, `media_format`, `custom_parameters`); both spellings are read.
 */
export type TwilioInbound =
  | { event: 'connected' }
  | { event: 'start'; streamSid: string; callSid: string; customParameters: Record<string, unknown>; encoding: string; sampleRateHz: number; channels: number }
  | { event: 'media'; track: string; payload: string }
  | { event: 'dtmf'; digit: string }
  | { event: 'mark'; name: string }
  | { event: 'stop' };

const EVENTS = 'connected, start, media, dtmf, mark, stop';
/** Strict base64 (what Twilio sends); Buffer.from would silently skip other characters. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** One frame's message, or a sentence saying what is wrong with it. */
export function readTwilioMessage(frame: string): TwilioInbound | { problem: string } {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch {
    return { problem: `a frame is not JSON (${frame.length} characters): send one JSON message per text frame` };
  }
  if (!isObject(message)) return { problem: 'a message is not a JSON object: send {"event": ...}' };
  const event = message.event;
  switch (event) {
    case 'connected':
    case 'stop':
      return { event };
    case 'start':
      return readStart(message);
    case 'media': {
      const media = message.media;
      const payload = isObject(media) ? text(media.payload) : undefined;
      if (payload === undefined) return { problem: 'a media message has no media.payload: send base64 mu-law audio in it' };
      if (!BASE64.test(payload)) return { problem: `media.payload is not base64 (${payload.length} characters): send the audio bytes base64-encoded` };
      return { event, track: (isObject(media) ? text(media.track) : undefined) ?? 'inbound', payload };
    }
    case 'dtmf': {
      const digit = isObject(message.dtmf) ? text(message.dtmf.digit) : undefined;
      if (digit === undefined) return { problem: 'a dtmf message has no dtmf.digit' };
      return { event, digit };
    }
    case 'mark': {
      const name = isObject(message.mark) ? text(message.mark.name) : undefined;
      if (name === undefined) return { problem: 'a mark message has no mark.name' };
      return { event, name };
    }
    default:
      return { problem: `unknown event ${JSON.stringify(String(event)).slice(0, 40)}: expected one of ${EVENTS}` };
  }
}

function readStart(message: Json): TwilioInbound | { problem: string } {
  const start = message.start;
  if (!isObject(start)) return { problem: 'a start message has no start object' };
  const streamSid = text(start.streamSid) ?? text(start.stream_id) ?? text(message.streamSid) ?? text(message.stream_id);
  if (!streamSid) return { problem: 'a start message has no start.streamSid' };
  const format = start.mediaFormat ?? start.media_format;
  const parameters = start.customParameters ?? start.custom_parameters ?? {};
  if (!isObject(parameters)) return { problem: 'start.customParameters is not an object of name -> value' };
  return {
    event: 'start',
    streamSid,
    callSid: text(start.callSid) ?? text(start.call_control_id) ?? '',
    customParameters: parameters,
    encoding: isObject(format) ? (text(format.encoding) ?? '') : 'audio/x-mulaw',
    sampleRateHz: isObject(format) ? Number(format.sampleRate ?? format.sample_rate) : 8000,
    channels: isObject(format) ? Number(format.channels ?? 1) : 1,
  };
}

/** The only format Twilio's bidirectional streams carry (and the narrowband default). */
export function checkStartFormat(start: Extract<TwilioInbound, { event: 'start' }>): string | null {
  const encoding = start.encoding.toLowerCase();
  if ((encoding === 'audio/x-mulaw' || encoding === 'pcmu') && start.sampleRateHz === 8000 && start.channels === 1) return null;
  return `the stream's media format is ${start.encoding || '(none)'} at ${start.sampleRateHz} Hz, ${start.channels} channels: this endpoint takes audio/x-mulaw (PCMU) at 8000 Hz, mono`;
}

export const twilioMedia = (streamSid: string, data: Uint8Array): string =>
  JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') } });
export const twilioMark = (streamSid: string, name: string): string => JSON.stringify({ event: 'mark', streamSid, mark: { name } });
export const twilioClear = (streamSid: string): string => JSON.stringify({ event: 'clear', streamSid });
