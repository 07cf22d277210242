/**
 * @file options.ts
 * @brief Parsers for command-line option values, shared by every subcommand: a bad value is
 * a RelayError BAD_OPTION naming the option, the accepted range and what was given.
 */
import net from 'node:net';
import dns from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { relayError } from '../errors';
import { canonicalIp } from '../util/ip';
import { AUTO_STRIPES, MAX_STRIPES } from '../constants';

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

/**
 * @brief Parses `--stripes`: `auto` (undefined: the founder's slots) or 1..MAX_STRIPES.
 * @param v The value.
 */
export function stripesOption(v: string): number | undefined {
  if (v === AUTO_STRIPES) return undefined;
  return intOption('--stripes', 1, MAX_STRIPES)(v);
}

/**
 * @brief Parses `--overlay-key`: the secret itself, or `@FILE` to read it from a file (so it
 * stays out of `ps`). At least 8 bytes.
 * @param v The value.
 */
export function overlayKeyOption(v: string): Buffer {
  let key: Buffer;
  if (v.startsWith('@')) {
    try {
      key = Buffer.from(readFileSync(v.slice(1), 'utf8').trim(), 'utf8');
    } catch (err) {
      throw relayError('BAD_OPTION', `--overlay-key ${v}: ${(err as Error).message}`);
    }
  } else key = Buffer.from(v, 'utf8');
  if (key.length < 8) throw relayError('BAD_OPTION', '--overlay-key must be at least 8 bytes');
  return key;
}

/**
 * @brief Resolves the server's host name once: the peer then speaks to that address and takes
 * pushes from it only (a name that later resolves elsewhere changes nothing in a running peer).
 * @param host A host name or an IP literal.
 * @param like Our own IP: the server's address is looked up in its family (IPv4 for an IPv4 peer).
 * @return The canonical IP.
 */
export async function resolveServer(host: string, like: string): Promise<string> {
  if (net.isIP(host)) return canonicalIp(host);
  try {
    return canonicalIp((await dns.lookup(host, { family: net.isIP(like) === 6 ? 6 : 4 })).address);
  } catch (err) {
    throw relayError('BAD_OPTION', `--server ${host} does not resolve: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
