/**
 * What every phone-call transport shares, whatever its wire protocol (Twilio Media Streams,
 * Asterisk chan_websocket, AudioSocket). A call holds its session from admission (the session's
 * START_TIMEOUT_MS then bounds a stream that never starts); when the carrier's stream starts it
 * starts the session in the call's format with the call's parameters and greeting, turns key
 * presses into text, and routes the session's events to the protocol's leg: reply audio to `play`,
 * an interrupted reply to `flush` (the barge-in), a session end to the leg's close.
 *
 * The hang-up seam: `requestHangUp(reason)` ends the call with the protocol's own hang-up once
 * what was sent has been heard. Two things raise it: the built-in `end_call` tool, which the
 * call offers by starting its session with `endCallTool` (TELEPHONY_END_CALL_TOOL) and which the
 * core reports on the reply's `response_done` (`endsCall`, in order after the reply's audio, once
 * it was heard: ../../core/end-call-tool.ts); and the end-phrase policy (./end-phrases.ts).
 */
import type { Logger } from 'pino';
import type { AudioFormat, ServerEvent } from '../../core/events.js';
import type { SessionPort } from '../../core/session-port.js';
import { turnRules } from '../../core/turn-state.js';
import { pumpEvents, type EventSink, type PumpEnd } from '../event-pump.js';
import type { CallParameters } from './call-parameters.js';
import { DtmfCollector, type DtmfMode } from './dtmf.js';
import { saysEndPhrase } from './end-phrases.js';

export type Frame = string | Uint8Array;
export type CallLog = Pick<Logger, 'warn' | 'info'>;

/** A carrier's id (stream, call, channel) kept in the session's metadata at most this long. */
const MAX_ID_CHARS = 128;

/** The protocol side of a call. Methods return the frames to send now (others it may send later). */
export interface CallLeg {
  /** Reply audio, in the call's format, for the caller to hear after what was sent before. */
  play(responseId: string, data: Uint8Array): Frame[];
  /** The caller must stop hearing the reply now: queued audio is dropped. */
  flush(): Frame[];
  /**
   * Hang up with the protocol's own signal once the audio sent so far has been heard (or a bound
   * passed); `done` is called once it has been sent, and the call then ends.
   */
  hangUp(done: () => void): void;
}

/** The transport's settings for every call. */
export interface CallSettings {
  transport: 'twilio' | 'asterisk' | 'audiosocket' | 'jambonz';
  dtmfMode: DtmfMode;
  dtmfMaxDigits: number;
  endPhrases: readonly string[];
  /** Offer the agent the built-in end_call tool (TELEPHONY_END_CALL_TOOL). */
  endCallTool: boolean;
  log: CallLog;
}

/** What the carrier's start says of one call. */
export interface CallStart {
  format: AudioFormat;
  parameters: CallParameters;
  /** Ids of the call for logs and the session's metadata (never a caller's number). */
  metadata: Record<string, string>;
}

export class TelephonyCall {
  private readonly dtmf: DtmfCollector;
  private leg: CallLeg | null = null;
  private hangingUp = false;

  constructor(
    readonly session: SessionPort,
    private readonly settings: CallSettings,
  ) {
    this.dtmf = new DtmfCollector(settings.dtmfMode, settings.dtmfMaxDigits, (text) => session.handle({ type: 'text', text }));
  }

  /** The carrier's stream has started. */
  get started(): boolean {
    return this.leg !== null;
  }

  /** The stream started: the session starts in the call's format, and the greeting plays. */
  begin(leg: CallLeg, start: CallStart): void {
    this.leg = leg;
    const { parameters, format } = start;
    for (const problem of parameters.problems) this.settings.log.warn({ sessionId: this.session.id, transport: this.settings.transport }, problem);
    const metadata = Object.fromEntries(Object.entries(start.metadata).map(([name, value]) => [name, value.slice(0, MAX_ID_CHARS)]));
    this.session.handle({
      type: 'start',
      settings: { ...parameters.patch, inputFormat: format, outputFormat: format },
      metadata: { transport: this.settings.transport, ...metadata },
      endCallTool: this.settings.endCallTool,
    });
    if (parameters.greeting) this.session.handle({ type: 'say', text: parameters.greeting });
  }

  /** Caller audio in the call's format. */
  audio(data: Uint8Array): void {
    this.session.handle({ type: 'audio', data });
  }

  /** A key press (checked with isDtmfDigit). */
  keyPressed(digit: string): void {
    this.dtmf.press(digit);
  }

  /** The caller has heard `playedMs` of reply `responseId` (a Twilio mark, an Asterisk playout estimate). */
  heard(responseId: string, playedMs: number): void {
    this.session.handle({ type: 'playback', responseId, playedMs: Math.round(playedMs) });
  }

  /** A message the protocol could not use: said in the session's error events (and the log). */
  reject(reason: string): void {
    this.session.rejectMessage(reason);
  }

  /**
   * The caller hung up (or the carrier closed the stream). Mid-reply nothing more can reach them:
   * the session ends as `client_gone`; otherwise it is a clean end.
   */
  callerHungUp(why: string): void {
    if (this.session.closedSignal.aborted) return;
    if (turnRules(this.session.currentState).agentHasFloor) this.session.close(`the caller hung up mid-reply (${why})`, 'client_gone');
    else this.session.end();
  }

  /** The hang-up seam (see the file comment): ends the call once what was sent has been heard. */
  requestHangUp(reason: string): void {
    const leg = this.leg;
    if (!leg || this.hangingUp || this.session.closedSignal.aborted) return;
    this.hangingUp = true;
    this.settings.log.info({ sessionId: this.session.id, transport: this.settings.transport }, `hanging up: ${reason}`);
    leg.hangUp(() => this.session.close(`the agent ended the call: ${reason}`, 'agent_ended'));
  }

  /** The frames that carry `event` to the caller (the pump's encoder). */
  frames(event: ServerEvent): Frame[] {
    const leg = this.leg;
    if (!leg) return []; // before the stream started only errors come, and a phone has no screen
    switch (event.type) {
      case 'response_audio':
        return this.hangingUp ? [] : leg.play(event.responseId, event.data);
      case 'response_done':
        if (event.status === 'interrupted') return leg.flush();
        if (event.endsCall) this.requestHangUp(`the agent called end_call${event.endsCall.reason ? ` (${event.endsCall.reason})` : ''}`);
        else if (event.status === 'completed' && saysEndPhrase(event.heardText, this.settings.endPhrases)) this.requestHangUp('the reply said an end phrase');
        return [];
      // A phone has no screen: error events reach only the log (the session's observer writes them).
      default:
        return [];
    }
  }

  /** Sends the session's events through `sink` until the session ends or the caller is gone. */
  pump(sink: EventSink, closeGraceMs: number): Promise<PumpEnd> {
    return pumpEvents(this.session, sink, { closeGraceMs });
  }
}
