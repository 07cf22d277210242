/**
 * @file log.ts
 * @brief The one logger of relaytv (pino): structured JSON lines on stderr (or a file).
 *
 * Every component receives a child logger (`log.child({ component: 'server' })`) through its
 * constructor options, so tests can pass a silent logger. The level comes from `RELAYTV_LOG`
 * (default `info`; tests use `silent` or `warn`). A process drawing a terminal screen (the
 * peer's TUI) logs to a file instead, so log lines never write over the screen.
 */
import pino from 'pino';

/** The logger type used across the project. */
export type Logger = pino.Logger;

/**
 * @brief Creates the process logger.
 * @param name Process role, e.g. `server`, `peer 127.0.0.11`.
 * @param level Minimum level; defaults to `RELAYTV_LOG` or `info`.
 * @param dest Where to write: a file path (appended to, created with its folder) or a file
 *        descriptor; defaults to stderr (fd 2).
 * @return A pino logger writing JSON lines to `dest`.
 */
export function createLogger(name: string, level?: string, dest: string | number = 2): Logger {
  const out = typeof dest === 'number' ? pino.destination(dest) : pino.destination({ dest, mkdir: true, append: true });
  return pino({ name, level: level ?? process.env.RELAYTV_LOG ?? 'info' }, out);
}

/** @brief A logger that drops everything (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
