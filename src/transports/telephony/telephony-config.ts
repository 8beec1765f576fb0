/** The phone-call transports' options from the gateway's configuration (one place for src/server.ts). */
import type { Config } from '../../config/schema.js';
import type { SessionSettings } from '../../core/events.js';
import type { SessionFactory } from '../session-factory.js';
import { parseEndPhrases } from './end-phrases.js';
import type { TelephonyOptions } from './options.js';
import type { CallLog } from './telephony-call.js';

export interface TelephonyDeps {
  createSession: SessionFactory;
  verifyCredential: TelephonyOptions['verifyCredential'];
  /** The server's session settings. */
  defaults: SessionSettings;
  /** The HTTP port serves TLS. */
  tls: boolean;
  log: CallLog;
}

export function telephonyOptions(config: Config, deps: TelephonyDeps): TelephonyOptions {
  const carrierSecret = Boolean(config.TWILIO_AUTH_TOKEN || config.FONOSTER_SIGNING_SECRET);
  return {
    // Carriers never reconnect with a resume token: a dropped call ends its session at once.
    createSession: (credential, client, verified) => deps.createSession(credential, { ...client, resumable: false }, verified),
    verifyCredential: deps.verifyCredential,
    allowedOrigins: config.ALLOWED_ORIGINS,
    defaults: deps.defaults,
    greeting: config.TELEPHONY_GREETING,
    maxTextChars: config.MAX_TEXT_CHARS,
    endPhrases: parseEndPhrases(config.TELEPHONY_END_PHRASES),
    endCallTool: config.TELEPHONY_END_CALL_TOOL,
    dtmfMode: config.TELEPHONY_DTMF_MODE,
    dtmfMaxDigits: config.TELEPHONY_DTMF_MAX_DIGITS,
    startTimeoutMs: config.START_TIMEOUT_MS,
    maxFrameMs: config.TELEPHONY_MAX_FRAME_MS,
    maxMessageBytes: config.MAX_MESSAGE_BYTES,
    playoutLeadMs: config.TELEPHONY_PLAYOUT_LEAD_MS,
    maxHeldBytes: config.OUTBOUND_QUEUE_MAX_BYTES,
    signatures: {
      twilioAuthToken: config.TWILIO_AUTH_TOKEN,
      fonosterSigningSecret: config.FONOSTER_SIGNING_SECRET,
      maxAgeS: config.TELEPHONY_SIGNATURE_MAX_AGE_S,
      publicUrl: config.TELEPHONY_PUBLIC_URL,
      tls: deps.tls,
    },
    signatureRequired: carrierSecret && config.AUTH_MODE === 'none',
    log: deps.log,
  };
}
