/**
 * @file control.ts
 * @brief Pure codec of the streaming server's control wire (PROTOCOL.md), no sockets.
 *
 * Byte layouts (all ASCII, no terminator, one TCP connection per message):
 * - request, client -> server:6060: `<code:2 digits><channel:1 digit>`, e.g. `101` = join 1.
 *   The server strips surrounding whitespace (Python `str.strip()`), reads at most 1024 bytes.
 * - `11C` answer: Python `repr(list_of_str)`: `[]`, `['127.0.0.5']`, `['10.0.0.2', '10.0.0.3']`.
 * - `13C` answer: decimal count, e.g. `1`.
 * - `10C` answer, server -> client:9091 on a new connection: `10` (accepted) or `00` (full).
 */
import { relayError } from '../errors';
import { MAX_REQUEST_BYTES } from '../constants';

/** A request code: 10 join, 11 list, 12 leave, 13 count. */
export type ControlCode = 10 | 11 | 12 | 13;

/** A decoded control request. */
export interface ControlRequest {
  /** Request code. */
  code: ControlCode;
  /** Channel number, 0..channels-1. */
  channel: number;
}

/** Join accepted: the 2 bytes `10` on a new connection to the client's data port. */
export const JOIN_OK: Buffer = Buffer.from('10', 'ascii');
/** Join refused (channel full): the 2 bytes `00`. */
export const JOIN_FULL: Buffer = Buffer.from('00', 'ascii');

/** Characters Python's `str.strip()` removes that can appear in ASCII input. */
const WS_RE = /^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$/g;
/** Codes we know. */
const CODES: ReadonlySet<number> = new Set([10, 11, 12, 13]);
/** Longest list reply we decode (bytes); a list of thousands of IPs is already absurd. */
const MAX_LIST_REPLY = 64 * 1024;
/** One IPv4 or IPv6 literal (what a list item may hold). */
const ADDR_RE = /^[0-9A-Za-z.:%_-]{1,64}$/;

/**
 * @brief Encodes a control request.
 * @param code Request code.
 * @param channel Channel, 0..9 (one digit on the wire).
 * @return The 3 ASCII bytes `<code><channel>`.
 */
export function encodeRequest(code: ControlCode, channel: number): Buffer {
  if (!CODES.has(code)) throw relayError('UNKNOWN_CODE', `code ${String(code)}`);
  if (!Number.isInteger(channel) || channel < 0 || channel > 9) {
    throw relayError('CHANNEL_OUT_OF_RANGE', `channel ${channel} is not one digit`);
  }
  return Buffer.from(`${code}${channel}`, 'ascii');
}

/**
 * @brief Decodes a control request as the server reads it.
 * @param buf The bytes read once from the request socket.
 * @param channels Number of channels of the server (valid: 0..channels-1).
 * @return The request.
 * @throws RelayError REQUEST_TOO_LARGE, BAD_CONTROL_REQUEST, UNKNOWN_CODE, CHANNEL_OUT_OF_RANGE.
 */
export function parseRequest(buf: Buffer, channels: number): ControlRequest {
  if (buf.length > MAX_REQUEST_BYTES) {
    throw relayError('REQUEST_TOO_LARGE', `${buf.length} bytes > ${MAX_REQUEST_BYTES}`);
  }
  const text = buf.toString('latin1').replace(WS_RE, '');
  if (!/^\d{3}$/.test(text)) {
    throw relayError('BAD_CONTROL_REQUEST', `expected 3 digits, got ${JSON.stringify(text.slice(0, 32))}`);
  }
  const code = Number(text.slice(0, 2));
  const channel = Number(text[2]);
  if (!CODES.has(code)) throw relayError('UNKNOWN_CODE', `code ${text.slice(0, 2)}`);
  if (channel >= channels) {
    throw relayError('CHANNEL_OUT_OF_RANGE', `channel ${channel} not in 0..${channels - 1}`);
  }
  return { code: code as ControlCode, channel };
}

/**
 * @brief Encodes the `11C` answer exactly as Python's `repr` of a list of str.
 * @param ips Client IPs in server order.
 * @return e.g. `['10.0.0.2', '10.0.0.3']`, or `[]`.
 */
export function encodeList(ips: string[]): Buffer {
  return Buffer.from(`[${ips.map((ip) => `'${ip}'`).join(', ')}]`, 'utf8');
}

/**
 * @brief Decodes a `11C` answer (tolerates double quotes and extra spaces).
 * @param input The bytes (or text) read until the server closed.
 * @return The IPs, in order.
 * @throws RelayError BAD_SERVER_REPLY when it is not a list of address strings.
 */
export function parseList(input: Buffer | string): string[] {
  if (input.length > MAX_LIST_REPLY) throw relayError('BAD_SERVER_REPLY', `list reply of ${input.length} bytes`);
  const text = (typeof input === 'string' ? input : input.toString('latin1')).trim();
  if (!text.startsWith('[') || !text.endsWith(']')) {
    throw relayError('BAD_SERVER_REPLY', `not a list: ${JSON.stringify(text.slice(0, 64))}`);
  }
  const body = text.slice(1, -1).trim();
  if (body === '') return [];
  const items = body.split(',').map((s) => s.trim());
  if (items.length > 0 && items[items.length - 1] === '') items.pop(); // Python allows `['a',]`
  return items.map((item) => {
    const m = /^(['"])(.*)\1$/.exec(item);
    if (!m || !ADDR_RE.test(m[2])) {
      throw relayError('BAD_SERVER_REPLY', `bad list item ${JSON.stringify(item.slice(0, 64))}`);
    }
    return m[2];
  });
}

/**
 * @brief Encodes the `13C` answer.
 * @param n Number of clients (integer >= 0).
 * @return The decimal text, e.g. `1`.
 */
export function encodeCount(n: number): Buffer {
  return Buffer.from(String(Math.max(0, Math.trunc(n))), 'ascii');
}

/**
 * @brief Decodes a `13C` answer.
 * @param buf The bytes read until the server closed.
 * @return The count.
 * @throws RelayError BAD_SERVER_REPLY when it is not a small decimal integer.
 */
export function parseCount(buf: Buffer | string): number {
  const text = (typeof buf === 'string' ? buf : buf.toString('latin1')).trim();
  if (!/^\d{1,9}$/.test(text)) {
    throw relayError('BAD_SERVER_REPLY', `not a count: ${JSON.stringify(text.slice(0, 32))}`);
  }
  return Number(text);
}

/**
 * @brief Classifies one connection's bytes on the data port as a join answer.
 * @param buf All bytes of one connection.
 * @return 'ok' for `10`, 'full' for `00`, null for anything else (a chunk is never 2 bytes).
 */
export function parseJoinAnswer(buf: Buffer): 'ok' | 'full' | null {
  if (buf.length !== 2) return null;
  if (buf.equals(JOIN_OK)) return 'ok';
  if (buf.equals(JOIN_FULL)) return 'full';
  return null;
}
