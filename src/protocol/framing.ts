/**
 * @file framing.ts
 * @brief The byte layer of the P2P protocol: frames, field writers and readers. Pure, no sockets.
 *
 * Frame layout (all integers big-endian):
 * ```
 * +-----------+-----------+---------+----------------------+
 * | len: u32  | ver: u8   | type:u8 | body: len-2 bytes    |
 * +-----------+-----------+---------+----------------------+
 * ```
 * `len` counts version, type and body. Each message type has its own bound on `len`, checked
 * as soon as the 6 header bytes are in and before anything is allocated, so a stranger cannot
 * make a peer buffer a chunk-sized frame for a 3-byte message. Strings are `u8 length + UTF-8`,
 * decoded strictly (what decodes must re-encode to the same bytes); ids are IP literals.
 */
import { relayError } from '../errors';
import { isCanonicalIp } from '../util/ip';

/** Protocol version carried by every frame (2: signed chunks, personal views, replicas). */
export const PROTOCOL_VERSION = 2;
/** Bytes of the frame header (length, version, type). */
export const HEADER_BYTES = 6;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Appends fields to a growing list of buffers. */
export class Writer {
  private parts: number[] = [];
  private bufs: Buffer[] = [];
  private flush(): void {
    if (this.parts.length) this.bufs.push(Buffer.from(this.parts));
    this.parts = [];
  }
  /** @brief Appends one byte (the low 8 bits of `v`). @param v The value. @return this. */
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  /** @brief Appends a signed byte. @param v The value, -128..127. @return this. */
  i8(v: number): this { return this.u8(v < 0 ? 256 + v : v); }
  /** @brief Appends an unsigned 16-bit integer. @param v The value, 0..65535. @return this. */
  u16(v: number): this { return this.u8(v >>> 8).u8(v); }
  /** @brief Appends an unsigned 32-bit integer. @param v The value. @return this. */
  u32(v: number): this { return this.u16(v >>> 16).u16(v & 0xffff); }
  /** @brief Appends a signed 32-bit integer (two's complement). @param v The value (-1: none). @return this. */
  i32(v: number): this { return this.u32(v >>> 0); }
  /** @brief Appends an IEEE-754 double. @param v The value. @return this. */
  f64(v: number): this { const b = Buffer.alloc(8); b.writeDoubleBE(v); return this.raw(b); }
  /**
   * @brief Appends a string as `u8 length + UTF-8`.
   * @param s The string; more than 255 bytes of UTF-8 is a BAD_FRAME (our own bug).
   * @return this.
   */
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 255) throw relayError('BAD_FRAME', 'string longer than 255 bytes');
    return this.u8(b.length).raw(b);
  }
  /** @brief Appends exactly `n` bytes (a hash, a key). @param b The bytes. @param n Required length. @return this. */
  fixed(b: Uint8Array, n: number): this {
    if (b.byteLength !== n) throw relayError('BAD_FRAME', `field of ${b.byteLength} bytes, expected ${n}`);
    return this.raw(b);
  }
  /** @brief Appends bytes without copying them. @param b The bytes. @return this. */
  raw(b: Uint8Array): this { this.flush(); this.bufs.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength)); return this; }
  /** @brief Ends the writing. @return The fields as a list of buffers, in order. */
  done(): Buffer[] { this.flush(); return this.bufs; }
}

/** Reads fields from a body, throwing BAD_FRAME past its end or on a malformed field. */
export class Reader {
  private off = 0;
  /**
   * @param buf The message body.
   * @param what What the body is, named in errors.
   */
  constructor(private readonly buf: Buffer, private readonly what: string) {}
  private need(n: number): number {
    if (this.off + n > this.buf.length) throw relayError('BAD_FRAME', `${this.what} truncated`);
    const at = this.off;
    this.off += n;
    return at;
  }
  /** @brief Reads one unsigned byte. @return 0..255. */
  u8(): number { return this.buf[this.need(1)]; }
  /** @brief Reads a signed byte. @return -128..127. */
  i8(): number { return this.buf.readInt8(this.need(1)); }
  /** @brief Reads an unsigned 16-bit integer. @return 0..65535. */
  u16(): number { return this.buf.readUInt16BE(this.need(2)); }
  /** @brief Reads an unsigned 32-bit integer. @return The value. */
  u32(): number { return this.buf.readUInt32BE(this.need(4)); }
  /** @brief Reads a signed 32-bit integer. @return The value. */
  i32(): number { return this.buf.readInt32BE(this.need(4)); }
  /** @brief Reads a finite double. @return The value; NaN and infinities are a BAD_FRAME. */
  f64(): number {
    const v = this.buf.readDoubleBE(this.need(8));
    if (!Number.isFinite(v)) throw relayError('BAD_FRAME', `${this.what}: number not finite`);
    return v;
  }
  /** @brief Reads a strict UTF-8 string. @return The string. */
  str(): string {
    const n = this.u8();
    const at = this.need(n);
    try {
      return strictUtf8.decode(this.buf.subarray(at, at + n));
    } catch {
      throw relayError('BAD_FRAME', `${this.what}: string is not valid UTF-8`);
    }
  }
  /** @brief Reads a peer id: an IP literal in canonical form. @return The id. */
  ip(): string {
    const s = this.str();
    if (!isCanonicalIp(s)) throw relayError('BAD_FRAME', `${this.what}: id ${JSON.stringify(s.slice(0, 48))} is not an IP literal`);
    return s;
  }
  /** @brief Reads a peer id or the empty string (none). @return The id or ''. */
  ipOrNone(): string {
    const n = this.buf[this.off];
    if (n === 0) { this.off++; return ''; }
    return this.ip();
  }
  /** @brief Reads a boolean byte (0 or 1; anything else is a BAD_FRAME). @return The value. */
  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw relayError('BAD_FRAME', `${this.what}: flag ${v} is not 0 or 1`);
    return v === 1;
  }
  /** @brief Reads a flag byte with only bits of `mask` set. @param mask Known bits. @return The byte. */
  flags(mask: number): number {
    const v = this.u8();
    if (v & ~mask) throw relayError('BAD_FRAME', `${this.what}: unknown flags ${v}`);
    return v;
  }
  /** @brief Reads a byte that must be one of `allowed`. @param allowed Known values. @return The value. */
  enum<T extends number>(allowed: readonly T[]): T {
    const v = this.u8();
    if (!allowed.includes(v as T)) throw relayError('BAD_FRAME', `${this.what}: unknown value ${v}`);
    return v as T;
  }
  /** @brief Reads a count bounded by `max`. @param max Largest accepted. @param wide u16 (default) or u32 on the wire. @return The count. */
  count(max: number, wide = false): number {
    const n = wide ? this.u32() : this.u16();
    if (n > max) throw relayError('BAD_FRAME', `${this.what}: ${n} items > ${max}`);
    return n;
  }
  /** @brief Reads `n` bytes, not copied. @param n How many. @return A view on the body. */
  bytes(n: number): Buffer { const at = this.need(n); return this.buf.subarray(at, at + n); }
  /** @brief Reads the rest of the body, not copied. @return A view (maybe empty). */
  rest(): Buffer { const at = this.off; this.off = this.buf.length; return this.buf.subarray(at); }
  /** @brief Checks the body was read to its end. */
  end(): void { if (this.off !== this.buf.length) throw relayError('BAD_FRAME', `${this.what} has trailing bytes`); }
}

/**
 * @brief Wraps a body into a frame.
 * @param type The message type byte.
 * @param body The body's buffers.
 * @return Header + body buffers (the body is not copied).
 */
export function frame(type: number, body: Buffer[]): Buffer[] {
  const len = 2 + body.reduce((n, b) => n + b.length, 0);
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32BE(len, 0);
  head[4] = PROTOCOL_VERSION;
  head[5] = type;
  return [head, ...body];
}

/**
 * Splits a byte stream into frames. A frame's type is checked and its length bounded by that
 * type's limit before its body is allocated (through `alloc`: chunk bodies go to shared memory
 * so the worker pool reads them without a copy).
 */
export class FrameDecoder {
  private head = Buffer.alloc(HEADER_BYTES);
  private headFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;
  private type = 0;

  /**
   * @param maxLen Largest `len` per type; a type missing from it is a BAD_FRAME.
   * @param alloc Allocates a body of the given size for the given type.
   */
  constructor(private readonly maxLen: ReadonlyMap<number, number>,
    private readonly alloc: (size: number, type: number) => Buffer = (n) => Buffer.allocUnsafe(n)) {}

  /**
   * @brief Feeds bytes; returns the frames they complete.
   * @param data Bytes from the stream.
   * @return Complete frames; throws BAD_VERSION, BAD_FRAME or FRAME_TOO_LARGE.
   */
  push(data: Buffer): { type: number; body: Buffer }[] {
    const out: { type: number; body: Buffer }[] = [];
    let off = 0;
    while (off < data.length) {
      if (this.body === null) {
        const n = Math.min(HEADER_BYTES - this.headFill, data.length - off);
        data.copy(this.head, this.headFill, off, off + n);
        this.headFill += n;
        off += n;
        if (this.headFill < HEADER_BYTES) break;
        const len = this.head.readUInt32BE(0);
        if (this.head[4] !== PROTOCOL_VERSION) throw relayError('BAD_VERSION', `version ${this.head[4]}, expected ${PROTOCOL_VERSION}`);
        this.type = this.head[5];
        const max = this.maxLen.get(this.type);
        if (max === undefined) throw relayError('BAD_FRAME', `unknown message type ${this.type}`);
        if (len < 2) throw relayError('BAD_FRAME', `frame length ${len}`);
        if (len > max) throw relayError('FRAME_TOO_LARGE', `type ${this.type} frame of ${len} bytes > ${max}`);
        this.body = this.alloc(len - 2, this.type);
        this.bodyFill = 0;
      }
      const n = Math.min(this.body.length - this.bodyFill, data.length - off);
      data.copy(this.body, this.bodyFill, off, off + n);
      this.bodyFill += n;
      off += n;
      if (this.bodyFill === this.body.length) {
        out.push({ type: this.type, body: this.body });
        this.body = null;
        this.headFill = 0;
      }
    }
    return out;
  }
}
