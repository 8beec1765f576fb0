/** What the phone-call transports are given by the composition root (src/server.ts). */
import type { SessionSettings } from '../../core/events.js';
import type { SessionFactory } from '../session-factory.js';
import type { SignatureSecrets } from './carrier-signatures.js';
import type { DtmfMode } from './dtmf.js';
import type { CallLog, CallSettings } from './telephony-call.js';

export interface TelephonyOptions {
  createSession: SessionFactory;
  /** Checks a gateway key without opening a session (the TwiML webhook): null when it is good, else why not. */
  verifyCredential: (credential: string | undefined) => Promise<string | null>;
  /** Origins of web pages allowed besides the gateway's own (ALLOWED_ORIGINS); carriers send none. */
  allowedOrigins: readonly string[];
  /** The server's session settings: call parameters are checked against them. */
  defaults: SessionSettings;
  greeting: string;
  /** The longest greeting (MAX_TEXT_CHARS). */
  maxTextChars: number;
  endPhrases: readonly string[];
  /** The agent may hang up through the built-in end_call tool. */
  endCallTool: boolean;
  dtmfMode: DtmfMode;
  dtmfMaxDigits: number;
  /** A stream not started within this (START_TIMEOUT_MS) is closed, as any session that sends no start. */
  startTimeoutMs: number;
  /** A media frame holding more audio than this is refused. */
  maxFrameMs: number;
  /** Largest WebSocket frame (MAX_MESSAGE_BYTES). */
  maxMessageBytes: number;
  /** Asterisk WebSocket: reply audio sent ahead of the caller's ear. */
  playoutLeadMs: number;
  /** Paced calls: reply audio that may wait to be sent (OUTBOUND_QUEUE_MAX_BYTES); past it the caller counts as too slow. */
  maxHeldBytes: number;
  signatures: SignatureSecrets;
  /**
   * A carrier secret is set and the gateway has no keys (AUTH_MODE=none): a request without a
   * valid signature is refused, or the secret would protect nothing.
   */
  signatureRequired: boolean;
  log: CallLog;
  /** How long a closing carrier gets to take its last frames (default 10 s). */
  closeGraceMs?: number;
}

export const DEFAULT_CLOSE_GRACE_MS = 10_000;

/** The settings every call of `transport` shares. */
export function callSettings(options: TelephonyOptions, transport: CallSettings['transport']): CallSettings {
  return { transport, dtmfMode: options.dtmfMode, dtmfMaxDigits: options.dtmfMaxDigits, endPhrases: options.endPhrases, endCallTool: options.endCallTool, log: options.log };
}
