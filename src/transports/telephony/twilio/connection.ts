/**
 * One Twilio Media Stream (or a Fonoster, SignalWire or Telnyx stream in the same format). The
 * session is admitted on `start`, which carries the call's parameters (and, for carriers that do
 * not sign, the gateway key as a `key` parameter); messages that come while it is admitted wait,
 * bounded. Reply audio goes out as it comes, in pieces of at most 100 ms each followed by a mark;
 * the echoed marks are the playback reports; a barge-in sends `clear`; the agent's hang-up waits
 * for a last mark, then closes the socket (Twilio goes on to the TwiML after `<Connect>`, none:
 * the call ends).
 */
import { WebSocket, type RawData } from 'ws';
import type { Session } from '../../../core/session.js';
import { isRefusal } from '../../session-factory.js';
import { admitCall, REFUSAL_CLOSE } from '../admit-call.js';
import { CLOSE, closeCodeFor, closeWithin } from '../../websocket-close.js';
import { webSocketSink } from '../../websocket-sink.js';
import { readCallParameters } from '../call-parameters.js';
import { isDtmfDigit } from '../dtmf.js';
import { DEFAULT_CLOSE_GRACE_MS, type TelephonyOptions } from '../options.js';
import { TelephonyCall, type CallLeg, type Frame } from '../telephony-call.js';
import { MarkTracker } from './mark-tracker.js';
import { checkStartFormat, readTwilioMessage, twilioClear, twilioMark, twilioMedia, type TwilioInbound } from './messages.js';

const RATE_HZ = 8000;
/** Reply audio per media message (and per mark): 100 ms of 8 kHz mu-law. */
const PIECE_BYTES = 800;
/** Messages held while the session is being admitted (about 5 s of 20 ms media). */
const MAX_WAITING_MESSAGES = 256;
/** Problems before `start` logged per stream, so a flood of garbage cannot flood the log. */
const MAX_LOGGED_EARLY_PROBLEMS = 5;
/** The agent's hang-up waits for the last audio to play, plus this. */
const HANG_UP_MARGIN_MS = 2000;
const HANG_UP_MARK = 'hangup';

export interface StreamContext {
  /** The gateway key from the upgrade's headers or query, if any. */
  credential: string | undefined;
  /** The carrier proved the request with its signature. */
  verified: { principal: string } | undefined;
}

export function serveTwilioStream(ws: WebSocket, context: StreamContext, options: TelephonyOptions): void {
  let call: TwilioStream | null = null;
  let admitting = false;
  let earlyProblems = 0;
  const waiting: TwilioInbound[] = [];
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  const startTimer = setTimeout(() => {
    if (!call && !admitting) closeWithin(ws, CLOSE.policyViolation, `no start message within ${options.startTimeoutMs} ms (TELEPHONY_START_TIMEOUT_MS)`, closeGraceMs);
  }, options.startTimeoutMs);
  startTimer.unref();

  const earlyProblem = (problem: string) => {
    if (++earlyProblems <= MAX_LOGGED_EARLY_PROBLEMS) options.log.warn({ transport: 'twilio' }, `before the stream started: ${problem}`);
  };

  const handle = (message: TwilioInbound) => {
    if (!call) {
      if (admitting) {
        if (waiting.length < MAX_WAITING_MESSAGES) waiting.push(message);
        else earlyProblem('more messages came than can wait while the call is admitted: dropped');
        return;
      }
      if (message.event === 'connected') return;
      if (message.event === 'stop') return closeWithin(ws, CLOSE.normal, 'the stream stopped before it started', closeGraceMs);
      if (message.event !== 'start') return earlyProblem(`a ${message.event} message came before start: the first messages are connected, then start`);
      void begin(message);
      return;
    }
    deliver(call, message);
  };

  const begin = async (start: Extract<TwilioInbound, { event: 'start' }>) => {
    const wrongFormat = checkStartFormat(start);
    if (wrongFormat) {
      options.log.warn({ transport: 'twilio' }, wrongFormat);
      return closeWithin(ws, CLOSE.policyViolation, wrongFormat, closeGraceMs);
    }
    admitting = true;
    const key = typeof start.customParameters.key === 'string' ? start.customParameters.key : undefined;
    const made = await admitCall(options, 'twilio', context.credential ?? key, context.verified);
    admitting = false;
    clearTimeout(startTimer);
    if (isRefusal(made)) return closeWithin(ws, REFUSAL_CLOSE[made.code], made.refused, closeGraceMs);
    if (ws.readyState !== WebSocket.OPEN) return made.close('the carrier left while the call was admitted', 'client_gone');
    call = startCall(ws, made, start, options, closeGraceMs);
    for (const message of waiting.splice(0)) deliver(call, message);
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const read = isBinary ? { problem: 'a binary frame came: Media Streams messages are JSON text frames' } : readTwilioMessage(textOf(data));
    if ('problem' in read) {
      if (call) call.call.reject(read.problem);
      else earlyProblem(read.problem);
      return;
    }
    handle(read);
  });
  ws.on('error', () => undefined); // the 'close' that follows ends the call
  ws.on('close', () => {
    clearTimeout(startTimer);
    if (call && !call.call.session.closedSignal.aborted) call.call.callerHungUp('the stream closed');
  });
}

/** A started stream: its call, what its marks stand for, and its frame bound. */
interface TwilioStream {
  call: TelephonyCall;
  markEchoed(name: string): void;
  maxFrameBytes: number;
}

function deliver(stream: TwilioStream, message: TwilioInbound): void {
  const { call } = stream;
  switch (message.event) {
    case 'media':
      return mediaIn(call, message.track, message.payload, stream.maxFrameBytes);
    case 'dtmf':
      if (!isDtmfDigit(message.digit)) return call.reject(`dtmf.digit ${JSON.stringify(message.digit.slice(0, 8))} is not a key: expected one of 0-9 * # A-D`);
      return call.keyPressed(message.digit);
    case 'mark':
      return stream.markEchoed(message.name);
    case 'stop':
      return call.callerHungUp('stop');
    case 'connected':
    case 'start':
      return call.reject(`a second ${message.event} message came: a stream starts once`);
  }
}

function mediaIn(call: TelephonyCall, track: string, payload: string, maxBytes: number): void {
  if (track !== 'inbound' && track !== 'inbound_track') return call.reject(`media of track ${JSON.stringify(track.slice(0, 20))} was dropped: a bidirectional stream carries the caller's inbound track only`);
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.length === 0) return call.reject('a media message carried no audio: send 20 ms (160 bytes) of mu-law per message');
  if (bytes.length > maxBytes) return call.reject(`a media message carried ${bytes.length} bytes of mu-law: at most ${maxBytes} (TELEPHONY_MAX_FRAME_MS); Twilio sends 160 bytes (20 ms) per message`);
  call.audio(bytes);
}

function startCall(ws: WebSocket, session: Session, start: Extract<TwilioInbound, { event: 'start' }>, options: TelephonyOptions, closeGraceMs: number): TwilioStream {
  const { streamSid } = start;
  const marks = new MarkTracker();
  let sentMs = 0;
  let responseId = '';
  let onHungUp: (() => void) | null = null;
  const send = (frames: Frame[]) => frames.forEach((frame) => ws.send(frame));
  const leg: CallLeg = {
    play(id, data) {
      if (id !== responseId) [responseId, sentMs] = [id, 0];
      const frames: Frame[] = [];
      for (let at = 0; at < data.length; at += PIECE_BYTES) {
        const piece = data.subarray(at, at + PIECE_BYTES);
        sentMs += (piece.length * 1000) / RATE_HZ;
        frames.push(twilioMedia(streamSid, piece), twilioMark(streamSid, marks.add(id, sentMs)));
      }
      return frames;
    },
    flush() {
      marks.cleared();
      return [twilioClear(streamSid)];
    },
    hangUp(done) {
      if (marks.waiting === 0) return done();
      const unplayedMs = marks.waiting * ((PIECE_BYTES * 1000) / RATE_HZ);
      const timer = setTimeout(done, unplayedMs + HANG_UP_MARGIN_MS);
      onHungUp = () => {
        clearTimeout(timer);
        done();
      };
      send([twilioMark(streamSid, HANG_UP_MARK)]);
    },
  };
  const parameters = readCallParameters(start.customParameters, options.defaults, options.greeting, options.maxTextChars);
  const call = new TelephonyCall(session, leg, {
    transport: 'twilio',
    format: { encoding: 'mulaw', sampleRateHz: RATE_HZ },
    parameters,
    metadata: { streamSid, callSid: start.callSid },
    dtmfMode: options.dtmfMode,
    dtmfMaxDigits: options.dtmfMaxDigits,
    endPhrases: options.endPhrases,
    log: options.log,
  });
  void pump(ws, call, closeGraceMs);
  return {
    call,
    maxFrameBytes: Math.round((options.maxFrameMs * RATE_HZ) / 1000),
    markEchoed(name) {
      if (name === HANG_UP_MARK) return onHungUp?.();
      const heard = marks.echoed(name);
      if (heard) call.heard(heard.responseId, heard.playedMs);
    },
  };
}

async function pump(ws: WebSocket, call: TelephonyCall, closeGraceMs: number): Promise<void> {
  const { session } = call;
  const end = await call.pump(webSocketSink(ws, (event) => call.frames(event)), closeGraceMs);
  if (end.kind === 'gone') return;
  if (end.kind === 'stuck') return closeWithin(ws, CLOSE.policyViolation, session.closeReason ?? 'the carrier stopped reading', closeGraceMs);
  closeWithin(ws, closeCodeFor(end.last, session.closeCause), session.closeReason ?? 'the call ended', closeGraceMs);
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString('utf8');
}
