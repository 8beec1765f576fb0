/**
 * Asterisk chan_websocket's control messages (docs.asterisk.org, Channel Drivers > WebSocket; the
 * driver's chan_websocket.c): TEXT frames, case-sensitive. Notifications come as plain text,
 * `MEDIA_START connection_id:<id> channel:<name> channel_id:<id> format:ulaw optimal_frame_size:160
 * ptime:20`, or as JSON objects with an `event` field when chan_websocket.conf sets
 * `control_message_format = json`; both are read. Commands the gateway sends are plain words.
 */
export type AsteriskNotification =
  | { event: 'MEDIA_START'; format: string; optimalFrameSize: number; connectionId: string; channel: string }
  | { event: 'DTMF_END'; digit: string }
  | { event: 'MEDIA_XOFF' | 'MEDIA_XON' | 'QUEUE_DRAINED' | 'STATUS' | 'MEDIA_BUFFERING_COMPLETED' }
  | { event: 'ERROR'; text: string };

const KNOWN = 'MEDIA_START, DTMF_END, MEDIA_XOFF, MEDIA_XON, QUEUE_DRAINED, STATUS, MEDIA_BUFFERING_COMPLETED, ERROR';

export const ASTERISK_COMMAND = {
  hangUp: 'HANGUP',
  flushMedia: 'FLUSH_MEDIA',
  reportQueueDrained: 'REPORT_QUEUE_DRAINED',
} as const;

/** One notification, or a sentence saying what is wrong with it. */
export function readAsteriskNotification(text: string): AsteriskNotification | { problem: string } {
  const read = text.trimStart().startsWith('{') ? jsonFields(text) : plainFields(text);
  if (typeof read === 'string') return { problem: read };
  const { event, values: fields } = read;
  switch (event) {
    case 'MEDIA_START': {
      const optimalFrameSize = Number(fields.optimal_frame_size);
      if (!fields.format) return { problem: 'MEDIA_START has no format: dial with c(ulaw) (or alaw, slin, slin16)' };
      if (!Number.isInteger(optimalFrameSize) || optimalFrameSize <= 0) return { problem: 'MEDIA_START has no optimal_frame_size' };
      return { event, format: fields.format, optimalFrameSize, connectionId: fields.connection_id ?? '', channel: fields.channel ?? '' };
    }
    case 'DTMF_END':
      if (!fields.digit) return { problem: 'DTMF_END has no digit' };
      return { event, digit: fields.digit };
    case 'MEDIA_XOFF':
    case 'MEDIA_XON':
    case 'QUEUE_DRAINED':
    case 'STATUS':
    case 'MEDIA_BUFFERING_COMPLETED':
      return { event };
    case 'ERROR':
      return { event, text: fields.error_text ?? '' };
    default:
      return { problem: `unknown control message ${JSON.stringify(String(event).slice(0, 40))}: expected one of ${KNOWN}` };
  }
}

type Fields = { event: string; values: Record<string, string | undefined> };

/** `NAME key:value key:value` (a value runs to the next space). */
function plainFields(text: string): Fields | string {
  const [event, ...pairs] = text.trim().split(/\s+/);
  if (!event) return 'an empty control message came';
  const values: Fields['values'] = {};
  for (const pair of pairs) {
    const colon = pair.indexOf(':');
    if (colon > 0) values[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return { event, values };
}

function jsonFields(text: string): Fields | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'a control message starts with { but is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { event?: unknown }).event !== 'string') return 'a JSON control message has no "event"';
  const values: Fields['values'] = {};
  for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string' || typeof value === 'number') values[key] = String(value);
  return { event: (parsed as { event: string }).event, values };
}

/** The call's audio format for an Asterisk format name: the session's encoding, rate and silence byte. */
export function asteriskFormat(name: string): { encoding: 'mulaw' | 'alaw' | 'pcm16'; sampleRateHz: number; silenceByte: number } | null {
  if (name === 'ulaw') return { encoding: 'mulaw', sampleRateHz: 8000, silenceByte: 0xff };
  if (name === 'alaw') return { encoding: 'alaw', sampleRateHz: 8000, silenceByte: 0xd5 };
  const slin = /^slin(\d+)?$/.exec(name);
  if (!slin) return null;
  const khz = slin[1] === undefined ? 8 : Number(slin[1]);
  const rates: Record<number, number> = { 8: 8000, 12: 12000, 16: 16000, 24: 24000, 32: 32000, 44: 44100, 48: 48000 };
  return rates[khz] ? { encoding: 'pcm16', sampleRateHz: rates[khz], silenceByte: 0 } : null;
}
