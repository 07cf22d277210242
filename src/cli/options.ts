/**
 * @file options.ts
 * @brief Parsers for command-line option values, with clear BAD_OPTION errors.
 */
import { InvalidArgumentError } from 'commander';

/**
 * @brief Parses a non-negative integer within [min, max].
 * @param name Option name for the message.
 * @param min Lowest value.
 * @param max Highest value.
 */
export function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new InvalidArgumentError(`BAD_OPTION: ${name} must be an integer in ${min}..${max}, got '${v}'`);
    }
    return Number(v);
  };
}

/**
 * @brief Parses HOST:PORT.
 * @param v The value.
 * @return `{host, port}`.
 */
export function hostPort(v: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError(`BAD_OPTION: expected HOST:PORT, got '${v}'`);
  return { host: m[1], port: Number(m[2]) };
}
