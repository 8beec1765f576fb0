/**
 * One jambonz `listen` stream (subprotocol audio.jambonz.org): jambonz opens it, sends one text
 * frame of call metadata (callSid, from, to, sampleRate, mixType, and the verb's own `metadata`),
 * then the caller's audio as binary frames of 16-bit little-endian PCM at `sampleRate`. With
 * `bidirectionalAudio.streaming` the gateway streams its reply back the same way. jambonz says
 * nothing of what has played, so the reply is paced here at most TELEPHONY_PLAYOUT_LEAD_MS ahead
 * (../paced-playout.ts), which also says what the caller heard; a barge-in drops what jambonz
 * still holds with `{"type":"killAudio"}`; keys come as `{"event":"dtmf","dtmf":"5"}` (`passDtmf`).
 * The agent hangs up by closing the stream once its goodbye has played: the listen verb ends and
 * the application's next verb (the gateway's webhook puts `hangup` there) ends the call.
 */
import { WebSocket, type RawData } from 'ws';
import { quoted } from '../../../core/client-text.js';
import type { SessionPort } from '../../../core/session-port.js';
import { readCallParameters } from '../call-parameters.js';
import { isDtmfDigit } from '../dtmf.js';
import { FRAME_MS } from '../frame-clock.js';
import { callSettings, type TelephonyOptions } from '../options.js';
import { PacedPlayout, pacedLeg } from '../paced-playout.js';
import { TelephonyCall } from '../telephony-call.js';
import { runCallOverWebSocket } from '../websocket-call.js';
import { bufferOf } from '../../websocket-shared/raw-data.js';

/** The rates `listen` streams at that a session takes (jambonz also offers 64000). */
const RATES_HZ = [8000, 16000, 24000, 48000] as const;
const KILL_AUDIO = JSON.stringify({ type: 'killAudio' });

interface Stream {
  call: TelephonyCall;
  playout: PacedPlayout;
  frameBytes: number;
  maxFrameBytes: number;
}

/** `parameters`: per-call settings from the stream URL's query (the webhook puts them there). */
export function serveJambonzStream(ws: WebSocket, session: SessionPort, parameters: Record<string, string>, options: TelephonyOptions, closeGraceMs: number): void {
  const call = new TelephonyCall(session, callSettings(options, 'jambonz'));
  let stream: Stream | null = null;
  runCallOverWebSocket(ws, call, closeGraceMs, () => stream?.playout.stop());

  ws.on(
    'message',
    session.bind((data: RawData, isBinary: boolean) => {
      const bytes = bufferOf(data);
      if (isBinary) {
        if (stream) return audioIn(stream, bytes);
        return call.reject(`${bytes.length} bytes of audio came before the call's metadata: the first frame is its JSON text`);
      }
      const message = readJson(bytes.toString('utf8'));
      if (typeof message === 'string') return call.reject(message);
      if (!stream) {
        const started = startStream(ws, call, message, parameters, options);
        if (typeof started === 'string') return call.reject(started);
        stream = started;
        return;
      }
      if (message.event === 'dtmf') {
        const digit = typeof message.dtmf === 'string' ? message.dtmf : '';
        if (!isDtmfDigit(digit)) return call.reject(`dtmf ${quoted(digit, 8)} is not a key: expected one of 0-9 * # A-D`);
        return call.keyPressed(digit);
      }
      // Other notices (e.g. a mark played) carry nothing the call needs: the playout keeps time itself.
    }),
  );
  ws.on('error', () => undefined); // the 'close' that follows ends the call
}

function startStream(ws: WebSocket, call: TelephonyCall, metadata: Record<string, unknown>, parameters: Record<string, string>, options: TelephonyOptions): Stream | string {
  const rateHz = metadata.sampleRate;
  if (!RATES_HZ.includes(rateHz as (typeof RATES_HZ)[number])) return `sampleRate ${quoted(String(rateHz), 12)} is not served: use listen's sampleRate 8000, 16000, 24000 or 48000`;
  if (metadata.mixType !== undefined && metadata.mixType !== 'mono') return `mixType ${quoted(JSON.stringify(metadata.mixType), 12)} is not served: use mono (one caller, one channel)`;
  const frameBytes = ((rateHz as number) * FRAME_MS * 2) / 1000;
  const playout = new PacedPlayout({
    frameBytes,
    leadFrames: Math.max(1, Math.round(options.playoutLeadMs / FRAME_MS)),
    silenceByte: 0,
    maxHeldBytes: options.maxHeldBytes,
    send(frames) {
      if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat(frames), { binary: true });
    },
    heard: (responseId, playedMs) => call.heard(responseId, playedMs),
  });
  // The agent's hang-up: the goodbye has played once the playout is idle and jambonz's lead has passed.
  const hangUp = (done: () => void) => playout.whenIdle(() => setTimeout(done, options.playoutLeadMs));
  const custom = typeof metadata.metadata === 'object' && metadata.metadata !== null ? (metadata.metadata as Record<string, unknown>) : {};
  call.begin(pacedLeg(playout, call.session, options.maxHeldBytes, [KILL_AUDIO], hangUp), {
    format: { encoding: 'pcm16', sampleRateHz: rateHz as number },
    // The verb's metadata first, the stream URL's query over it (the webhook writes the URL).
    parameters: readCallParameters({ ...custom, ...parameters }, options.defaults, options.greeting, options.maxTextChars),
    metadata: { callSid: typeof metadata.callSid === 'string' ? metadata.callSid : '' },
  });
  return { call, playout, frameBytes, maxFrameBytes: Math.round((options.maxFrameMs / FRAME_MS) * frameBytes) };
}

function audioIn(stream: Stream, bytes: Buffer): void {
  if (bytes.length === 0) return stream.call.reject('an empty audio frame came');
  if (bytes.length % 2 !== 0) return stream.call.reject(`an audio frame of ${bytes.length} bytes came: L16 frames hold 2-byte samples`);
  if (bytes.length > stream.maxFrameBytes) return stream.call.reject(`an audio frame of ${bytes.length} bytes came: at most ${stream.maxFrameBytes} (TELEPHONY_MAX_FRAME_MS)`);
  stream.call.audio(bytes);
}

/** A JSON object, or why the text is not one. */
function readJson(text: string): Record<string, unknown> | string {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  return `a text frame was not a JSON object (${quoted(text, 40)}): jambonz sends the call's metadata, then dtmf notices`;
}
