/**
 * @file options.ts
 * @brief Parsers for command-line option values, shared by every subcommand: a bad value is
 * a RelayError BAD_OPTION naming the option, the accepted range and what was given.
 */
import { relayError } from '../errors';

/**
 * @brief Parses an integer within [min, max].
 * @param name Option name for the message.
 * @param min Lowest value.
 * @param max Highest value.
 * @return A commander argument parser.
 */
export function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min || n > max) {
      throw relayError('BAD_OPTION', `${name} must be an integer in ${min}..${max}, got '${v}'`);
    }
    return n;
  };
}

/**
 * @brief Parses a duration in seconds, in (0, 3600].
 * @param name Option name for the message.
 * @return A commander argument parser.
 */
export function secondsOption(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw relayError('BAD_OPTION', `${name} must be seconds in (0, 3600], got '${v}'`);
    return n;
  };
}

/**
 * @brief Parses HOST:PORT.
 * @param v The value.
 * @return `{host, port}`.
 */
export function hostPort(v: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw relayError('BAD_OPTION', `expected HOST:PORT, got '${v}'`);
  return { host: m[1], port: Number(m[2]) };
}
