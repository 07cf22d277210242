/**
 * @file sleep.ts
 * @brief The project's one cancellable sleep: resolves after `ms`, or at once when `signal` aborts.
 *
 * Every wait of a loop (the join loop, the slot requests, the server's rounds) goes through it,
 * so a stop cancels it and no timer outlives its owner.
 */

/**
 * @brief Resolves after `ms` milliseconds, or as soon as `signal` is aborted (never rejects).
 * @param ms Milliseconds (<= 0 resolves on the next turn).
 * @param signal Cancels the wait.
 * @return Resolves to true when the full time elapsed, false when cancelled.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
