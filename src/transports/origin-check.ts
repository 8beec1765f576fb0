/**
 * Which web pages may open a WebSocket session. A browser sends the page's origin with every
 * upgrade, and a page on any site may try to connect to a gateway it can reach (one on localhost,
 * or one with AUTH_MODE=none): so only the gateway's own origin is accepted by default, and others
 * only when listed in ALLOWED_ORIGINS. Clients that send no Origin (SDKs, the CLI, telephony
 * providers) are not browsers and are never refused for it.
 */

/** ALLOWED_ORIGINS: comma-separated origins (`https://app.example.com`), or `*` for any. */
export function parseAllowedOrigins(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((origin) => (origin === '*' ? origin : new URL(origin).origin));
}

/**
 * True when a page of `origin` may connect: no Origin at all, the same host as the request's
 * `Host` (the gateway's own page), or an allowed origin.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes('*')) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // "null" (a sandboxed page, a file) and anything else that is not an origin
  }
  if (host !== undefined && parsed.host.toLowerCase() === host.toLowerCase()) return true;
  return allowed.includes(parsed.origin);
}
