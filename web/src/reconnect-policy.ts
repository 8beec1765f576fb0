/** When a lost connection is retried on its own, and how soon. */
import { ErrorCode } from '../../src/gen/voice/v1/voice_pb.js';

/** Waits before each new attempt; the last repeats. */
export const RECONNECT_DELAYS_MS = [1000, 2000, 4000, 8000, 15000] as const;
/** With a resume token the gateway holds the conversation for a while (RESUME_WINDOW_MS): come back soon. */
export const RESUME_DELAYS_MS = [250, 500, 1000, 2000, 4000] as const;

export function reconnectDelayMs(attempt: number, resuming = false): number {
  const delays = resuming ? RESUME_DELAYS_MS : RECONNECT_DELAYS_MS;
  return delays[Math.min(attempt, delays.length - 1)]!;
}

/** Close codes that a retry would only repeat: a broken limit (1008), a frame too big (1009). */
const NO_RETRY_CLOSE_CODES = new Set([1008, 1009]);
/** Session-ending errors that need the person, not a retry: a bad key, a limit, a bad setting. */
const NO_RETRY_ERRORS = new Set([ErrorCode.UNAUTHENTICATED, ErrorCode.RESOURCE_EXHAUSTED, ErrorCode.INVALID_ARGUMENT, ErrorCode.FAILED_PRECONDITION]);

export function retriesOnItsOwn(closeCode: number, fatalError: ErrorCode | undefined): boolean {
  if (fatalError !== undefined && NO_RETRY_ERRORS.has(fatalError)) return false;
  return !NO_RETRY_CLOSE_CODES.has(closeCode);
}
