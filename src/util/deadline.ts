/**
 * @file deadline.ts
 * @brief A time limit as an AbortSignal held by a real timer until it fires or is cleared.
 *
 * Why not `AbortSignal.any([AbortSignal.timeout(ms), parent])`: the timeout signal is held
 * weakly once it has no listener of its own (only the combined signal refers to it), so a
 * garbage collection can drop it, and with it its timer: the combined signal then never
 * aborts. A server pushing 6 MB chunks to a client that never reads hung for good that way
 * (Node 20). Here a plain `setTimeout` owns the controller, and `clear()` releases both.
 */

/** A time limit: `signal` aborts after `ms`, or when `parent` does; `clear()` ends it. */
export interface Deadline {
  /** Aborts when the time runs out or the parent aborts. */
  readonly signal: AbortSignal;
  /** True when the time ran out (not the parent). */
  readonly expired: boolean;
  /** Stops the timer and drops the parent listener (call on every path out). */
  clear(): void;
}

/**
 * @brief Starts a time limit.
 * @param ms Milliseconds until the signal aborts (at least 1).
 * @param parent Optional signal whose abort ends the limit early (e.g. the server closing).
 */
export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const ctl = new AbortController();
  let expired = false;
  const onParent = (): void => ctl.abort(parent?.reason);
  const timer = setTimeout(() => {
    expired = true;
    ctl.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'));
  }, Math.max(1, Math.ceil(ms)));
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: ctl.signal,
    get expired() {
      return expired;
    },
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
