/** One line of a backend check (`voice-gateway doctor`, warnings at start): what works, and the fix. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface BackendCheck {
  /** e.g. "riva", "llm". */
  backend: string;
  /** e.g. "health", "ASR models". */
  check: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to change, for warn and fail. */
  fix?: string;
}

export const ok = (backend: string, check: string, detail: string): BackendCheck => ({ backend, check, status: 'ok', detail });
export const skip = (backend: string, check: string, detail: string): BackendCheck => ({ backend, check, status: 'skip', detail });
export const warn = (backend: string, check: string, detail: string, fix: string): BackendCheck => ({ backend, check, status: 'warn', detail, fix });
export const fail = (backend: string, check: string, detail: string, fix: string): BackendCheck => ({ backend, check, status: 'fail', detail, fix });
