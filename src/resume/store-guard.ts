/**
 * Every session-store call, bounded and watched: a store that is down or slow costs a session its
 * resume, never a turn. A call that fails or outlasts SESSION_STORE_TIMEOUT_MS rejects with
 * StoreUnavailableError; the observer hears of every failure (a metric) and of each outage's start
 * and end (one warning, one notice), not of every call.
 */
import type { ClaimRequest, ClaimResult, RenewResult, SaveRequest, SessionStore } from './session-store.js';

export type StoreOperation = 'save' | 'claim' | 'renew' | 'remove';

export interface StoreObserver {
  /** `outageStarted`: the first failure since the store last answered. */
  onStoreError?(operation: StoreOperation, message: string, outageStarted: boolean): void;
  onStoreRecovered?(): void;
}

export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

export class GuardedStore {
  private healthy = true;

  constructor(
    readonly store: SessionStore,
    private readonly timeoutMs: number,
    private readonly observer: StoreObserver = {},
  ) {}

  get kind(): SessionStore['kind'] {
    return this.store.kind;
  }

  /** False from a failed call until the next call that succeeds. */
  get answering(): boolean {
    return this.healthy;
  }

  save(request: SaveRequest): Promise<'saved' | 'superseded'> {
    return this.run('save', () => this.store.save(request));
  }

  claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.run('claim', () => this.store.claim(request));
  }

  renew(sessions: ReadonlyArray<{ sessionId: string; generation: number }>): Promise<RenewResult> {
    return this.run('renew', () => this.store.renew(sessions));
  }

  remove(sessionId: string, generation: number): Promise<void> {
    return this.run('remove', () => this.store.remove(sessionId, generation));
  }

  /** The store's connection reports trouble on its own (Redis down between calls). */
  connectionLost(message: string): void {
    this.failed('renew', message);
  }

  private async run<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`the session store (${this.store.kind}) did not answer within ${this.timeoutMs} ms (SESSION_STORE_TIMEOUT_MS)`)), this.timeoutMs);
    });
    try {
      const result = await Promise.race([call(), timeout]);
      if (!this.healthy) {
        this.healthy = true;
        this.observer.onStoreRecovered?.();
      }
      return result;
    } catch (error) {
      const message = error instanceof StoreUnavailableError ? error.message : `the session store (${this.store.kind}) failed: ${error instanceof Error ? error.message : String(error)}`;
      this.failed(operation, message);
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(message);
    } finally {
      clearTimeout(timer);
    }
  }

  private failed(operation: StoreOperation, message: string): void {
    const outageStarted = this.healthy;
    this.healthy = false;
    this.observer.onStoreError?.(operation, message, outageStarted);
  }
}
