/**
 * Bounded cooperative cancellation. Node cannot kill a promise, so a provider that ignores its
 * AbortSignal would keep a session waiting forever. These helpers stop waiting at once on abort
 * and give the provider a budget to wind down before it is abandoned.
 */

/** Resolves when `signal` aborts (never rejects). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Resolves after `ms`, or early (resolving too) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Resolves to true if `promise` settled within `ms`, false if it did not. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Yields from `source` until `signal` aborts, then stops at once, even while the source is stuck
 * in `next()`. The source then gets `budgetMs` to finish `return()`; past that `onAbandoned` is
 * called and the source is left to itself.
 */
export async function* untilAborted<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
  budgetMs: number,
  onAbandoned: () => void,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  // A listener of our own, removed at the end: a reply makes one of these per TTS piece, and
  // listeners left on its signal would pile up.
  let onAbort = (): void => undefined;
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  let finished = false;
  try {
    while (!signal.aborted) {
      const next = iterator.next();
      next.catch(() => undefined); // an abandoned call may reject later; nobody waits for it
      const result = await Promise.race([next, aborted]);
      if (typeof result === 'symbol') return;
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!finished && iterator.return) {
      const closing = iterator.return();
      if (!(await settlesWithin(closing, budgetMs))) onAbandoned();
    }
  }
}

const ABORTED = Symbol('aborted');
