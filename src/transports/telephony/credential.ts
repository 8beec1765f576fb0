/**
 * The gateway key a carrier can present when it does not sign its requests: `Authorization:
 * Bearer` (SignalWire's authBearerToken), `x-telnyx-streaming-auth-token` (Telnyx's
 * stream_auth_token), `x-api-key`, HTTP Basic with the key as the password
 * (Asterisk's websocket_client.conf username/password), or `?key=` in the URL (Asterisk's `v()`
 * dial option; Twilio drops query strings, so there it goes in a `<Parameter name="key">`).
 */
import type { IncomingMessage } from 'node:http';
import { bearerToken } from '../session-factory.js';

export function requestCredential(request: IncomingMessage): string | undefined {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const authorization = header('authorization');
  const basic = /^Basic\s+(.+)$/i.exec(authorization?.trim() ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1) || undefined;
  }
  const query = new URL(request.url ?? '/', 'http://gateway').searchParams.get('key');
  return bearerToken(authorization) ?? header('x-telnyx-streaming-auth-token') ?? header('x-api-key') ?? (query || undefined);
}

/** The values of `names` among the URL's query parameters (the first of each). */
export function queryParameters(request: IncomingMessage, names: readonly string[]): Record<string, string> {
  const query = new URL(request.url ?? '/', 'http://gateway').searchParams;
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = query.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}
