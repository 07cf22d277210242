/**
 * @file reaper.ts
 * @brief Synchronous cleanups run when a test process ends in any way: a normal exit, or
 *        SIGINT / SIGTERM / SIGHUP (Ctrl-C, or the test runner stopping a file that timed out).
 *
 * The processes a test starts live in process groups of their own (detached), so they outlive
 * their test file unless someone kills them: each helper that starts some registers a cleanup
 * here (kill the groups, remove the folders) and drops it once it has stopped them itself.
 */
import { readFileSync } from 'node:fs';

const cleanups = new Set<() => void>();
let hooked = false;

function runAll(): void {
  for (const fn of [...cleanups]) {
    try { fn(); } catch { /* best effort: the others still run */ }
  }
  cleanups.clear();
}

/**
 * @brief Registers a synchronous cleanup.
 * @param fn Kills what it started, removes what it made; must not throw nor wait.
 * @return Unregisters it (call once the helper cleaned up on its own).
 */
export function atExit(fn: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.on('exit', runAll);
    for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
      process.once(sig, () => { runAll(); process.exit(128 + n); });
    }
  }
  cleanups.add(fn);
  return () => { cleanups.delete(fn); };
}

/**
 * @brief Whether a process exists and is not a zombie (a killed orphan waits to be reaped by
 * init, and `kill(pid, 0)` still finds it): what a cleanup test checks is gone.
 * @param pid The process.
 */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
