/**
 * @file wait.ts
 * @brief The tests' one wait: polls a condition until it holds, or fails with what it waited for.
 * The bound is a give-up time, never a timing assertion.
 */

/**
 * @brief Polls `cond` until true; throws `timed out waiting for <what>` after `ms`.
 * @param cond Condition (may be async).
 * @param ms Give-up bound, ms.
 * @param what Description for the error.
 * @param everyMs Poll period, ms.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 50): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** @brief Resolves after `ms`. @param ms Milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
