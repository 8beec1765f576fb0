/**
 * One Twilio Media Stream (or a Fonoster, SignalWire or Telnyx stream in the same format). Its
 * session was admitted with the upgrade, or is admitted at `start` with the stream's `key`
 * parameter (./server.ts); messages that come while that admission runs wait, bounded. `start`
 * starts the call. Reply audio goes out as it comes, in pieces of at most 100 ms each followed by
 * a mark; the echoed marks are the playback reports; a barge-in sends `clear`; the agent's
 * hang-up waits for a last mark, then closes the socket (Twilio goes on to the TwiML after
 * `<Connect>`, none: the call ends).
 */
import type { RawData, WebSocket } from 'ws';
import type { SessionPort } from '../../../core/session-port.js';
import { quoted } from '../../../core/client-text.js';
import { CLOSE, closeWithin } from '../../websocket-shared/close.js';
import type { AdmitLater } from '../../websocket-shared/sessions.js';
import { readCallParameters } from '../call-parameters.js';
import { isDtmfDigit } from '../dtmf.js';
import { callSettings, type TelephonyOptions } from '../options.js';
import { TelephonyCall, type CallLeg, type Frame } from '../telephony-call.js';
import { runCallOverWebSocket } from '../websocket-call.js';
import { MarkTracker } from './mark-tracker.js';
import { checkStartFormat, readTwilioMessage, twilioClear, twilioMark, twilioMedia, type TwilioInbound } from './messages.js';
import { bufferOf } from '../../websocket-shared/raw-data.js';

const RATE_HZ = 8000;
/** Reply audio per media message (and per mark): 100 ms of 8 kHz mu-law. */
const PIECE_BYTES = 800;
/** Messages held while the session is being admitted (about 5 s of 20 ms media). */
const MAX_WAITING_MESSAGES = 256;
/** Problems before a session exists logged per stream, so a flood of garbage cannot flood the log. */
const MAX_LOGGED_EARLY_PROBLEMS = 5;
/** The agent's hang-up waits for the last audio to play, plus this. */
const HANG_UP_MARGIN_MS = 2000;
const HANG_UP_MARK = 'hangup';

type Start = Extract<TwilioInbound, { event: 'start' }>;

/** `admission`: the session admitted with the upgrade, or the way to admit one at `start`. */
export function serveTwilioStream(ws: WebSocket, admission: SessionPort | AdmitLater, options: TelephonyOptions, closeGraceMs: number): void {
  let call: TelephonyCall | null = null;
  let stream: TwilioStream | null = null;
  let admitting = false;
  let earlyProblems = 0;
  const waiting: TwilioInbound[] = [];

  const attach = (session: SessionPort) => {
    call = new TelephonyCall(session, callSettings(options, 'twilio'));
    runCallOverWebSocket(ws, call, closeGraceMs);
  };
  const problem = (text: string) => {
    if (call) call.reject(text);
    else if (++earlyProblems <= MAX_LOGGED_EARLY_PROBLEMS) options.log.warn({ transport: 'twilio' }, `before the stream's session was admitted: ${text}`);
  };

  const begin = async (start: Start) => {
    const wrongFormat = checkStartFormat(start);
    if (wrongFormat) {
      options.log.warn({ transport: 'twilio', sessionId: call?.session.id }, wrongFormat);
      return closeWithin(ws, CLOSE.policyViolation, wrongFormat, closeGraceMs);
    }
    if (!call) {
      if (typeof admission !== 'function') throw new Error('a Twilio stream with a session has a call'); // cannot happen
      admitting = true;
      const session = await admission(typeof start.customParameters.key === 'string' ? start.customParameters.key : undefined);
      admitting = false;
      if (!session) return; // refused or gone: the socket is closing
      attach(session);
    }
    stream = startStream(ws, call!, start, options);
    for (const message of waiting.splice(0)) deliver(stream, message);
  };

  const handle = (message: TwilioInbound) => {
    if (stream) return deliver(stream, message);
    if (admitting) {
      if (waiting.length < MAX_WAITING_MESSAGES) waiting.push(message);
      else problem('more messages came than can wait while the call is admitted: dropped');
      return;
    }
    if (message.event === 'connected') return;
    if (message.event === 'stop') return call ? call.callerHungUp('stop before start') : closeWithin(ws, CLOSE.normal, 'the stream stopped before it started', closeGraceMs);
    if (message.event !== 'start') return problem(`a ${message.event} message came before start: the first messages are connected, then start`);
    begin(message).catch((error: unknown) => (call ? call.session.fail(error) : ws.terminate()));
  };

  const onMessage = (data: RawData, isBinary: boolean) => {
    const read = isBinary ? { problem: 'a binary frame came: Media Streams messages are JSON text frames' } : readTwilioMessage(bufferOf(data).toString('utf8'));
    if ('problem' in read) return problem(read.problem);
    handle(read);
  };
  // Callbacks run in the session's scope once there is one: a bug ends that call, not the process.
  ws.on('message', (data: RawData, isBinary: boolean) => (call ? call.session.bind(onMessage)(data, isBinary) : onMessage(data, isBinary)));
  ws.on('error', () => undefined); // the 'close' that follows ends the call
  if (typeof admission !== 'function') attach(admission);
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
      if (!isDtmfDigit(message.digit)) return call.reject(`dtmf.digit ${quoted(message.digit, 8)} is not a key: expected one of 0-9 * # A-D`);
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
  if (track !== 'inbound' && track !== 'inbound_track') return call.reject(`media of track ${quoted(track, 20)} was dropped: a bidirectional stream carries the caller's inbound track only`);
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.length === 0) return call.reject('a media message carried no audio: send 20 ms (160 bytes) of mu-law per message');
  if (bytes.length > maxBytes) return call.reject(`a media message carried ${bytes.length} bytes of mu-law: at most ${maxBytes} (TELEPHONY_MAX_FRAME_MS); Twilio sends 160 bytes (20 ms) per message`);
  call.audio(bytes);
}

function startStream(ws: WebSocket, call: TelephonyCall, start: Start, options: TelephonyOptions): TwilioStream {
  const { streamSid } = start;
  const marks = new MarkTracker();
  let sentMs = 0;
  let responseId = '';
  let onHungUp: (() => void) | null = null;
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
      ws.send(twilioMark(streamSid, HANG_UP_MARK));
    },
  };
  call.begin(leg, {
    format: { encoding: 'mulaw', sampleRateHz: RATE_HZ },
    parameters: readCallParameters(start.customParameters, options.defaults, options.greeting, options.maxTextChars),
    metadata: { streamSid, callSid: start.callSid },
  });
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
