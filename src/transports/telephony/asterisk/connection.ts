/**
 * One Asterisk chan_websocket channel (Asterisk 20.16+, 21.11+, 22.6+, 23): binary frames carry
 * raw audio in the channel's codec both ways, text frames carry control messages
 * (./control-messages.ts). The call starts at MEDIA_START, which names the codec and frame size.
 * Asterisk times what it plays but says nothing of what has played, so reply audio is paced here
 * at most TELEPHONY_PLAYOUT_LEAD_MS ahead (../paced-playout.ts), which also says what the caller
 * heard. Barge-in sends FLUSH_MEDIA; MEDIA_XOFF/XON pause and resume sending; the agent's hang-up
 * waits for QUEUE_DRAINED, then sends HANGUP. The session was admitted with the upgrade
 * (./server.ts); messages before MEDIA_START are refused through it.
 */
import { WebSocket, type RawData } from 'ws';
import { quoted } from '../../../core/client-text.js';
import type { SessionPort } from '../../../core/session-port.js';
import { CLOSE, closeWithin } from '../../websocket-shared/close.js';
import { readCallParameters } from '../call-parameters.js';
import { isDtmfDigit } from '../dtmf.js';
import { FRAME_MS } from '../frame-clock.js';
import { callSettings, type TelephonyOptions } from '../options.js';
import { PacedPlayout, pacedLeg } from '../paced-playout.js';
import { TelephonyCall } from '../telephony-call.js';
import { runCallOverWebSocket } from '../websocket-call.js';
import { ASTERISK_COMMAND, asteriskFormat, readAsteriskNotification, type AsteriskNotification } from './control-messages.js';
import { bufferOf } from '../../websocket-shared/raw-data.js';

/** chan_websocket closes the socket (and hangs up) on a message over this. */
const ASTERISK_MAX_MESSAGE_BYTES = 65_500;
/** The hang-up waits for QUEUE_DRAINED at most this long past the audio's end. */
const HANG_UP_MARGIN_MS = 2000;

interface Channel {
  call: TelephonyCall;
  playout: PacedPlayout;
  frameBytes: number;
  pcm: boolean;
  maxFrameBytes: number;
  onDrained: (() => void) | null;
}

/** `parameters`: per-call settings from the dial string's v() option (query parameters). */
export function serveAsteriskChannel(ws: WebSocket, session: SessionPort, parameters: Record<string, string>, options: TelephonyOptions, closeGraceMs: number): void {
  const call = new TelephonyCall(session, callSettings(options, 'asterisk'));
  let channel: Channel | null = null;
  runCallOverWebSocket(ws, call, closeGraceMs, () => channel?.playout.stop());

  const begin = (start: Extract<AsteriskNotification, { event: 'MEDIA_START' }>) => {
    const format = asteriskFormat(start.format);
    if (!format) {
      const why = `format ${quoted(start.format, 20)} is not served: dial with c(ulaw), c(alaw), c(slin) or c(slin16)`;
      options.log.warn({ transport: 'asterisk', sessionId: session.id }, why);
      return closeWithin(ws, CLOSE.policyViolation, why, closeGraceMs);
    }
    channel = startChannel(ws, call, start, format, parameters, options);
  };

  ws.on(
    'message',
    session.bind((data: RawData, isBinary: boolean) => {
      const bytes = bufferOf(data);
      if (isBinary) {
        if (channel) return audioIn(channel, bytes);
        return call.reject(`${bytes.length} bytes of audio came before MEDIA_START`);
      }
      const read = readAsteriskNotification(bytes.toString('utf8'));
      if ('problem' in read) return call.reject(read.problem);
      if (read.event === 'MEDIA_START') {
        if (channel) return call.reject('a second MEDIA_START came: a channel starts once');
        return begin(read);
      }
      if (!channel) return call.reject(`${read.event} came before MEDIA_START`);
      control(channel, read, options);
    }),
  );
  ws.on('error', () => undefined); // the 'close' that follows ends the call
}

function control(channel: Channel, message: AsteriskNotification, options: TelephonyOptions): void {
  switch (message.event) {
    case 'DTMF_END':
      if (!isDtmfDigit(message.digit)) return channel.call.reject(`DTMF_END digit ${JSON.stringify(message.digit.slice(0, 8))} is not a key: expected one of 0-9 * # A-D`);
      return channel.call.keyPressed(message.digit);
    case 'MEDIA_XOFF':
      return channel.playout.setPaused(true);
    case 'MEDIA_XON':
      return channel.playout.setPaused(false);
    case 'QUEUE_DRAINED':
      return channel.onDrained?.();
    case 'ERROR':
      return options.log.warn({ sessionId: channel.call.session.id, transport: 'asterisk' }, `Asterisk reported an error: ${quoted(message.text, 200)}`);
    default:
      return;
  }
}

function audioIn(channel: Channel, bytes: Buffer): void {
  if (bytes.length === 0) return channel.call.reject('an empty audio frame came');
  if (channel.pcm && bytes.length % 2 !== 0) return channel.call.reject(`an audio frame of ${bytes.length} bytes came: slin frames hold 2-byte samples`);
  if (bytes.length > channel.maxFrameBytes) return channel.call.reject(`an audio frame of ${bytes.length} bytes came: at most ${channel.maxFrameBytes} (TELEPHONY_MAX_FRAME_MS); Asterisk sends ${channel.frameBytes} bytes per 20 ms`);
  channel.call.audio(bytes);
}

function startChannel(
  ws: WebSocket,
  call: TelephonyCall,
  start: Extract<AsteriskNotification, { event: 'MEDIA_START' }>,
  format: NonNullable<ReturnType<typeof asteriskFormat>>,
  parameters: Record<string, string>,
  options: TelephonyOptions,
): Channel {
  const frameBytes = start.optimalFrameSize;
  const framesPerMessage = Math.max(1, Math.floor(ASTERISK_MAX_MESSAGE_BYTES / frameBytes));
  const playout = new PacedPlayout({
    frameBytes,
    leadFrames: Math.max(1, Math.round(options.playoutLeadMs / FRAME_MS)),
    silenceByte: format.silenceByte,
    maxHeldBytes: options.maxHeldBytes,
    send(frames) {
      if (ws.readyState !== WebSocket.OPEN) return;
      for (let at = 0; at < frames.length; at += framesPerMessage) ws.send(Buffer.concat(frames.slice(at, at + framesPerMessage)), { binary: true });
    },
    heard: (responseId, playedMs) => call.heard(responseId, playedMs),
  });
  const channel: Channel = {
    call,
    playout,
    frameBytes,
    pcm: format.encoding === 'pcm16',
    maxFrameBytes: Math.round((options.maxFrameMs / FRAME_MS) * frameBytes),
    onDrained: null,
  };
  // The agent's hang-up: once the audio sent has played here, ask Asterisk when its queue is empty too.
  const hangUp = (done: () => void) =>
    playout.whenIdle(() => {
      const timer = setTimeout(finish, options.playoutLeadMs + HANG_UP_MARGIN_MS);
      function finish() {
        clearTimeout(timer);
        channel.onDrained = null;
        if (ws.readyState === WebSocket.OPEN) ws.send(ASTERISK_COMMAND.hangUp);
        done();
      }
      channel.onDrained = finish;
      ws.send(ASTERISK_COMMAND.reportQueueDrained);
    });
  call.begin(pacedLeg(playout, call.session, options.maxHeldBytes, [ASTERISK_COMMAND.flushMedia], hangUp), {
    format: { encoding: format.encoding, sampleRateHz: format.sampleRateHz },
    parameters: readCallParameters(parameters, options.defaults, options.greeting, options.maxTextChars),
    metadata: { connectionId: start.connectionId, channel: start.channel },
  });
  return channel;
}
