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

/** Who asks for a session, for the log line of a refusal (never part of the decision). */
export interface ClientInfo {
  /** The peer's network address, e.g. 127.0.0.1. */
  address?: string;
  /** The transport it came through, e.g. grpc, websocket, realtime. */
  transport?: string;
}

export type SessionFactory = (credential: string | undefined, client?: ClientInfo) => Promise<SessionPort | SessionRefusal>;

export function isRefusal(result: SessionPort | SessionRefusal): result is SessionRefusal {
  return 'refused' in result;
}

/** The token of an `authorization: Bearer <token>` value (any case), else the value itself. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return (match ? match[1]! : header).trim() || undefined;
}
