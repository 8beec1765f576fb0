/** Asking for a call's session, the same way for every phone transport: a refusal is logged. */
import type { Session } from '../../core/session.js';
import { isRefusal, type SessionRefusal } from '../session-factory.js';
import { CLOSE } from '../websocket-close.js';
import type { TelephonyOptions } from './options.js';

/** How a WebSocket carrier is told a refusal. */
export const REFUSAL_CLOSE: Record<SessionRefusal['code'], number> = {
  unauthenticated: CLOSE.policyViolation,
  resource_exhausted: CLOSE.tryAgainLater,
  unavailable: CLOSE.tryAgainLater,
};

export async function admitCall(options: TelephonyOptions, transport: string, credential: string | undefined, verified?: { principal: string }): Promise<Session | SessionRefusal> {
  const made: Session | SessionRefusal = await options.createSession(credential, verified).catch((error: unknown) => ({ refused: String(error), code: 'unavailable' as const }));
  if (isRefusal(made)) options.log.warn({ transport, code: made.code }, `call refused: ${made.refused}`);
  return made;
}
