/**
 * A route that answers only with the credential sessions need (METRICS_AUTH=gateway for
 * /metrics): `authorization: Bearer <key or token>` or `x-api-key`, checked as for a session.
 * Prometheus sends it with `authorization` (or `bearer_token_file`) in its scrape config.
 */
import { bearerToken } from '../session-factory.js';
import type { RouteHandler } from './server.js';

/** `verify` answers null for a good credential, else the reason (never holding the credential). */
export function withCredential(handler: RouteHandler, verify: (credential: string | undefined) => Promise<string | null>): RouteHandler {
  return async (request, response) => {
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const refusal = await verify(bearerToken(header('authorization')) ?? header('x-api-key'));
    if (refusal) {
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end(`${refusal}\n`);
      return;
    }
    await handler(request, response);
  };
}
