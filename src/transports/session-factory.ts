/**
 * How a transport asks for a session: it passes the credential the client presented (a bearer
 * token or API key, however its protocol carries it) and gets a session or a refusal to map onto
 * its own status codes.
 */
import type { SessionPort } from '../core/session-port.js';

export interface SessionRefusal {
  refused: string;
  /** unavailable: draining (retry elsewhere); unauthenticated; resource_exhausted: a limit. */
  code: 'unavailable' | 'unauthenticated' | 'resource_exhausted';
  retryAfterS?: number;
}

export type SessionFactory = (credential: string | undefined) => Promise<SessionPort | SessionRefusal>;

export function isRefusal(result: SessionPort | SessionRefusal): result is SessionRefusal {
  return 'refused' in result;
}

/** The token of an `authorization: Bearer <token>` value (any case), else the value itself. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return (match ? match[1]! : header).trim() || undefined;
}
