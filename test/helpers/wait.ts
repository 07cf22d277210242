/**
 * @file wait.ts
 * @brief The tests' one wait: a sleep, and a poll of a condition with a give-up bound (never a
 * timing assertion).
 */

/** @brief Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * @brief Polls `cond` every `everyMs` until true; throws `timed out waiting for <what>` after `ms`.
 * A condition that throws counts as false (a peer restarting does not answer /status yet); the
 * last error is in the timeout's message.
 * @param cond Condition (may be async).
 * @param ms Time budget.
 * @param what Description for the error.
 * @param everyMs Poll period.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 100): Promise<void> {
  const until = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      if (await cond()) return;
    } catch (err) {
      last = ` (last error: ${(err as Error).message})`;
    }
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}${last}`);
    await sleep(everyMs);
  }
}

/**
 * @brief `p`, or `fallback` once `ms` passed; the timer is cleared either way (a pending timer
 * would keep the test process alive after its work is done).
 */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<F>((r) => { timer = setTimeout(() => r(fallback), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
