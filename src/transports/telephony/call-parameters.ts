/**
 * Per-call settings a carrier passes (Twilio `<Parameter>`s in `start.customParameters`, query
 * parameters of an Asterisk dial string's `v()` option): only the allow-listed names reach the
 * session, each checked like any client's settings. A bad one is dropped with a problem to log,
 * so a misconfigured number still answers with the server's defaults.
 */
import { GatewayError, type SessionSettings, type SettingsPatch } from '../../core/events.js';
import { applySettings } from '../../core/settings.js';

/** Names a carrier may set; anything else (caller ids, app data) is ignored. */
export const CALL_PARAMETERS = ['instructions', 'voice', 'language', 'greeting'] as const;

export interface CallParameters {
  patch: SettingsPatch;
  /** What the agent says first (the parameter, else the server's TELEPHONY_GREETING). */
  greeting: string;
  /** One sentence per parameter that was dropped. */
  problems: string[];
}

/**
 * `defaults`: the server's session settings, against which each value is checked;
 * `maxGreetingChars`: the longest text a session speaks at once (MAX_TEXT_CHARS).
 */
export function readCallParameters(raw: Record<string, unknown>, defaults: SessionSettings, defaultGreeting: string, maxGreetingChars: number): CallParameters {
  const patch: SettingsPatch = {};
  const problems: string[] = [];
  for (const name of ['instructions', 'voice', 'language'] as const) {
    const value = raw[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      problems.push(`parameter ${name} is not a string: it was ignored`);
      continue;
    }
    try {
      applySettings(defaults, { [name]: value });
      patch[name] = value;
    } catch (error) {
      problems.push(`parameter ${name} was ignored: ${error instanceof GatewayError ? error.message : String(error)}`);
    }
  }
  let greeting = defaultGreeting;
  const asked = raw.greeting;
  if (typeof asked === 'string' && asked.length <= maxGreetingChars) greeting = asked;
  else if (asked !== undefined) problems.push(`parameter greeting was ignored: it must be text of at most ${maxGreetingChars} characters`);
  return { patch, greeting: greeting.trim(), problems };
}
