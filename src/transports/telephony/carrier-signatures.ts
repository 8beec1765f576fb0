/**
 * Proof that a request comes from the carrier: Twilio's X-Twilio-Signature (HMAC-SHA1 of the URL
 * it requested and its sorted form parameters, keyed with the account's auth token, base64; see
 * twilio-node's webhooks.ts) and Fonoster's x-fonoster-signature (HMAC-SHA256 of
 * `<timestamp>.<url>`, keyed with the stream's signing secret, lowercase hex; docs.fonoster.com
 * "Verify request signatures"). Both sign the URL the carrier dialed, which behind a proxy is not
 * the one this process sees: TELEPHONY_PUBLIC_URL names it, else the Host header is trusted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type CarrierCheck =
  /** A valid signature: the carrier vouches for the call. */
  | { kind: 'verified'; principal: 'twilio' | 'fonoster' }
  | { kind: 'invalid'; message: string }
  /** No signature header, or no secret to check it with. */
  | { kind: 'absent' };

export interface SignatureSecrets {
  twilioAuthToken: string;
  fonosterSigningSecret: string;
  /** Fonoster timestamps further than this from now are refused (replays). */
  maxAgeS: number;
  /** TELEPHONY_PUBLIC_URL, or '' to take the Host header. */
  publicUrl: string;
  /** The HTTP port serves TLS (so the URL the carrier dialed was https or wss). */
  tls: boolean;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The URLs the carrier may have signed for this request: `ws` for WebSocket upgrades (ws/wss) or
 * `http` for webhooks, each with and without the scheme's default port (twilio-node accepts both,
 * "signature generation on the back end is inconsistent"). Without TELEPHONY_PUBLIC_URL both
 * schemes are tried, since a TLS proxy in front hides which one was dialed.
 */
export function signedUrls(request: IncomingMessage, kind: 'ws' | 'http', publicUrl: string, tls: boolean): string[] {
  const pathAndQuery = request.url ?? '/';
  let host: string;
  let secure: boolean[];
  if (publicUrl) {
    const base = new URL(publicUrl);
    host = base.host;
    secure = [base.protocol === 'https:'];
  } else {
    host = header(request, 'host') ?? 'localhost';
    secure = tls ? [true] : [false, true];
  }
  const urls: string[] = [];
  for (const s of secure) {
    const scheme = kind === 'ws' ? (s ? 'wss' : 'ws') : s ? 'https' : 'http';
    const hostname = host.replace(/:\d+$/, '');
    const port = /:(\d+)$/.exec(host)?.[1];
    const defaultPort = s ? '443' : '80';
    urls.push(`${scheme}://${host}${pathAndQuery}`);
    if (!port) urls.push(`${scheme}://${hostname}:${defaultPort}${pathAndQuery}`);
    else if (port === defaultPort) urls.push(`${scheme}://${hostname}${pathAndQuery}`);
  }
  return urls;
}

/** Twilio's signature of `url` and form `params` (names sorted; repeated values sorted, once each). */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams = new URLSearchParams()): string {
  let data = url;
  for (const name of [...new Set(params.keys())].sort()) {
    for (const value of [...new Set(params.getAll(name))].sort()) data += name + value;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks the carrier signature a request carries, if a secret to check it is configured. */
export function checkCarrierSignature(request: IncomingMessage, kind: 'ws' | 'http', secrets: SignatureSecrets, form?: URLSearchParams): CarrierCheck {
  const twilio = header(request, 'x-twilio-signature');
  if (twilio !== undefined && secrets.twilioAuthToken) {
    const ok = signedUrls(request, kind, secrets.publicUrl, secrets.tls).some((url) => sameText(twilio, twilioSignature(secrets.twilioAuthToken, url, form)));
    return ok
      ? { kind: 'verified', principal: 'twilio' }
      : { kind: 'invalid', message: 'X-Twilio-Signature does not match: check TWILIO_AUTH_TOKEN and that TELEPHONY_PUBLIC_URL is the URL Twilio was given' };
  }
  const fonoster = header(request, 'x-fonoster-signature');
  if (fonoster !== undefined && secrets.fonosterSigningSecret) return checkFonoster(request, fonoster, kind, secrets);
  return { kind: 'absent' };
}

function checkFonoster(request: IncomingMessage, signature: string, kind: 'ws' | 'http', secrets: SignatureSecrets): CarrierCheck {
  const timestamp = header(request, 'x-fonoster-timestamp') ?? '';
  const seconds = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(Date.now() / 1000 - seconds) > secrets.maxAgeS) {
    return { kind: 'invalid', message: `x-fonoster-timestamp is missing or more than ${secrets.maxAgeS} s from now (TELEPHONY_SIGNATURE_MAX_AGE_S): check the clocks` };
  }
  const hmac = (data: string) => createHmac('sha256', secrets.fonosterSigningSecret).update(data, 'utf8').digest('hex');
  const appSignature = header(request, 'x-fonoster-app-signature');
  const appRef = header(request, 'x-fonoster-app-ref') ?? '';
  const workspaceRef = header(request, 'x-fonoster-workspace-ref') ?? '';
  const ok = signedUrls(request, kind, secrets.publicUrl, secrets.tls).some(
    (url) => sameText(signature, hmac(`${timestamp}.${url}`)) && (appSignature === undefined || sameText(appSignature, hmac(`${timestamp}\n${url}\n${appRef}\n${workspaceRef}`))),
  );
  return ok
    ? { kind: 'verified', principal: 'fonoster' }
    : { kind: 'invalid', message: 'x-fonoster-signature does not match: check FONOSTER_SIGNING_SECRET and that TELEPHONY_PUBLIC_URL is the stream URL Fonoster was given' };
}
