/**
 * One Asterisk chan_websocket channel (Asterisk 20.16+, 21.11+, 22.6+, 23): binary frames carry
 * raw audio in the channel's codec both ways, text frames carry control messages
 * (./control-messages.ts). The call starts at MEDIA_START, which names the codec and frame size.
 * Asterisk times what it plays but says nothing of what has played, so reply audio is paced here
 * at most TELEPHONY_PLAYOUT_LEAD_MS ahead (../paced-playout.ts), which also says what the caller
 * heard. Barge-in sends FLUSH_MEDIA; MEDIA_XOFF/XON pause and resume sending; the agent's hang-up
 * waits for QUEUE_DRAINED, then sends HANGUP.
 */
import { WebSocket, type RawData } from 'ws';
import type { Session } from '../../../core/session.js';
import { isRefusal } from '../../session-factory.js';
import { CLOSE, closeCodeFor, closeWithin } from '../../websocket-close.js';
import { webSocketSink } from '../../websocket-sink.js';
import { readCallParameters } from '../call-parameters.js';
import { isDtmfDigit } from '../dtmf.js';
import { FRAME_MS } from '../frame-clock.js';
import { DEFAULT_CLOSE_GRACE_MS, type TelephonyOptions } from '../options.js';
import { PacedPlayout, pacedLeg } from '../paced-playout.js';
import { TelephonyCall } from '../telephony-call.js';
import { admitCall, REFUSAL_CLOSE } from '../admit-call.js';
import { ASTERISK_COMMAND, asteriskFormat, readAsteriskNotification, type AsteriskNotification } from './control-messages.js';

/** chan_websocket closes the socket (and hangs up) on a message over this. */
const ASTERISK_MAX_MESSAGE_BYTES = 65_500;
const MAX_LOGGED_EARLY_PROBLEMS = 5;
/** The hang-up waits for QUEUE_DRAINED at most this long past the audio's end. */
const HANG_UP_MARGIN_MS = 2000;

export interface ChannelContext {
  credential: string | undefined;
  /** Per-call settings from the dial string's v() option (query parameters). */
  parameters: Record<string, string>;
}

interface Channel {
  call: TelephonyCall;
  playout: PacedPlayout;
  frameBytes: number;
  pcm: boolean;
  maxFrameBytes: number;
  onDrained: (() => void) | null;
}

export function serveAsteriskChannel(ws: WebSocket, context: ChannelContext, options: TelephonyOptions): void {
  let channel: Channel | null = null;
  let admitting = false;
  let earlyProblems = 0;
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  const startTimer = setTimeout(() => {
    if (!channel && !admitting) closeWithin(ws, CLOSE.policyViolation, `no MEDIA_START within ${options.startTimeoutMs} ms (TELEPHONY_START_TIMEOUT_MS)`, closeGraceMs);
  }, options.startTimeoutMs);
  startTimer.unref();
  const earlyProblem = (problem: string) => {
    if (++earlyProblems <= MAX_LOGGED_EARLY_PROBLEMS) options.log.warn({ transport: 'asterisk' }, `before MEDIA_START: ${problem}`);
  };

  const begin = async (start: Extract<AsteriskNotification, { event: 'MEDIA_START' }>) => {
    const format = asteriskFormat(start.format);
    if (!format) {
      const why = `format ${start.format} is not served: dial with c(ulaw), c(alaw), c(slin) or c(slin16)`;
      options.log.warn({ transport: 'asterisk' }, why);
      return closeWithin(ws, CLOSE.policyViolation, why, closeGraceMs);
    }
    admitting = true;
    const made = await admitCall(options, 'asterisk', context.credential);
    admitting = false;
    clearTimeout(startTimer);
    if (isRefusal(made)) return closeWithin(ws, REFUSAL_CLOSE[made.code], made.refused, closeGraceMs);
    if (ws.readyState !== WebSocket.OPEN) return made.close('Asterisk left while the call was admitted', 'client_gone');
    channel = startChannel(ws, made, start, format, context, options, closeGraceMs);
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = asBuffer(data);
    if (isBinary) {
      if (channel) return audioIn(channel, bytes);
      return earlyProblem(`${bytes.length} bytes of audio came before MEDIA_START`);
    }
    const read = readAsteriskNotification(bytes.toString('utf8'));
    if ('problem' in read) return channel ? channel.call.reject(read.problem) : earlyProblem(read.problem);
    if (read.event === 'MEDIA_START') {
      if (channel || admitting) return channel?.call.reject('a second MEDIA_START came: a channel starts once');
      return void begin(read);
    }
    if (!channel) return earlyProblem(`${read.event} came before MEDIA_START`);
    control(channel, read, options);
  });
  ws.on('error', () => undefined);
  ws.on('close', () => {
    clearTimeout(startTimer);
    if (!channel) return;
    channel.playout.stop();
    if (!channel.call.session.closedSignal.aborted) channel.call.callerHungUp('Asterisk closed the channel');
  });
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
      return options.log.warn({ sessionId: channel.call.session.id, transport: 'asterisk' }, `Asterisk reported an error: ${message.text.slice(0, 200)}`);
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
  session: Session,
  start: Extract<AsteriskNotification, { event: 'MEDIA_START' }>,
  format: NonNullable<ReturnType<typeof asteriskFormat>>,
  context: ChannelContext,
  options: TelephonyOptions,
  closeGraceMs: number,
): Channel {
  const frameBytes = start.optimalFrameSize;
  const framesPerMessage = Math.max(1, Math.floor(ASTERISK_MAX_MESSAGE_BYTES / frameBytes));
  let channel: Channel | null = null;
  const playout = new PacedPlayout({
    frameBytes,
    leadFrames: Math.max(1, Math.round(options.playoutLeadMs / FRAME_MS)),
    silenceByte: format.silenceByte,
    maxHeldBytes: options.maxHeldBytes,
    send(frames) {
      if (ws.readyState !== WebSocket.OPEN) return;
      for (let at = 0; at < frames.length; at += framesPerMessage) ws.send(Buffer.concat(frames.slice(at, at + framesPerMessage)), { binary: true });
    },
    heard: (responseId, playedMs) => channel?.call.heard(responseId, playedMs),
  });
  const leg = pacedLeg(playout, session, options.maxHeldBytes, [ASTERISK_COMMAND.flushMedia], (done) =>
      playout.whenIdle(() => {
        const timer = setTimeout(finish, options.playoutLeadMs + HANG_UP_MARGIN_MS);
        function finish() {
          clearTimeout(timer);
          if (channel) channel.onDrained = null;
          if (ws.readyState === WebSocket.OPEN) ws.send(ASTERISK_COMMAND.hangUp);
          done();
        }
        channel!.onDrained = finish;
        ws.send(ASTERISK_COMMAND.reportQueueDrained);
      }),
  );
  const call = new TelephonyCall(session, leg, {
    transport: 'asterisk',
    format: { encoding: format.encoding, sampleRateHz: format.sampleRateHz },
    parameters: readCallParameters(context.parameters, options.defaults, options.greeting, options.maxTextChars),
    metadata: { connectionId: start.connectionId, channel: start.channel },
    dtmfMode: options.dtmfMode,
    dtmfMaxDigits: options.dtmfMaxDigits,
    endPhrases: options.endPhrases,
    log: options.log,
  });
  channel = {
    call,
    playout,
    frameBytes,
    pcm: format.encoding === 'pcm16',
    maxFrameBytes: Math.round((options.maxFrameMs / FRAME_MS) * frameBytes),
    onDrained: null,
  };
  void pump(ws, channel, closeGraceMs);
  return channel;
}

async function pump(ws: WebSocket, channel: Channel, closeGraceMs: number): Promise<void> {
  const { session } = channel.call;
  const end = await channel.call.pump(webSocketSink(ws, (event) => channel.call.frames(event)), closeGraceMs);
  channel.playout.stop();
  if (end.kind === 'gone') return;
  if (end.kind === 'stuck') return closeWithin(ws, CLOSE.policyViolation, session.closeReason ?? 'Asterisk stopped reading', closeGraceMs);
  closeWithin(ws, closeCodeFor(end.last, session.closeCause), session.closeReason ?? 'the call ended', closeGraceMs);
}

function asBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}
