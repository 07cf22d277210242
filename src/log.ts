/**
 * @file log.ts
 * @brief The one logger of relaytv (pino): structured JSON lines on stderr.
 *
 * Every component receives a child logger (`log.child({ component: 'server' })`) through its
 * constructor options, so tests can pass a silent logger. The level comes from `RELAYTV_LOG`
 * (default `info`; tests use `silent` or `warn`).
 */
import pino from 'pino';

/** The logger type used across the project. */
export type Logger = pino.Logger;

/**
 * @brief Creates the process logger.
 * @param name Process role, e.g. `server`, `peer 127.0.0.11`.
 * @param level Minimum level; defaults to `RELAYTV_LOG` or `info`.
 * @return A pino logger writing JSON lines to stderr (fd 2).
 */
export function createLogger(name: string, level?: string): Logger {
  return pino({ name, level: level ?? process.env.RELAYTV_LOG ?? 'info' }, pino.destination(2));
}

/** @brief A logger that drops everything (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
