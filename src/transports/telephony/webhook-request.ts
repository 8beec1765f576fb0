/**
 * What the carriers' call webhooks (Twilio's TwiML, jambonz's application hook) read the same way
 * from the request: the call parameters and gateway key to pass on to the media stream, and the
 * host the carrier should dial that stream at.
 */
import type { IncomingMessage } from 'node:http';
import { CALL_PARAMETERS } from './call-parameters.js';
import type { TelephonyOptions } from './options.js';

/** Names copied from the webhook URL to the stream: the call parameters, and the gateway key. */
const FORWARDED = [...CALL_PARAMETERS, 'key'] as const;

/** The webhook URL's values of the forwarded names, in their order. */
export function forwardedParameters(request: IncomingMessage): Array<[name: string, value: string]> {
  const query = new URL(request.url ?? '/', 'http://gateway').searchParams;
  return FORWARDED.flatMap((name) => {
    const value = query.get(name);
    return value === null ? [] : [[name, value] as [string, string]];
  });
}

/** TELEPHONY_PUBLIC_URL's host, else the request's Host header. */
export function publicHost(request: IncomingMessage, options: TelephonyOptions): string {
  return options.signatures.publicUrl ? new URL(options.signatures.publicUrl).host : (request.headers.host ?? 'localhost');
}
