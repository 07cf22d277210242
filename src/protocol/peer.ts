/**
 * @file peer.ts
 * @brief The P2P wire protocol between relaytv peers: framing and every message, pure (no sockets).
 *
 * Frame layout (all integers big-endian):
 * ```
 * +-----------+-----------+--------+----------------------+
 * | len: u32  | ver: u8=1 | type:u8| body: len-2 bytes    |
 * +-----------+-----------+--------+----------------------+
 * ```
 * `len` counts version, type and body; it is bounded by MAX_FRAME_BYTES so a stranger cannot
 * make a peer buffer more than one chunk. Strings are `u8 length + UTF-8`. Sequence numbers
 * are i32 where -1 means "none". Message bodies:
 * - HELLO(1): id:str, p2pPort:u16, httpPort:u16, slots:u16, channel:u8, flags:u8 (bit0 direct), maxSeq:i32
 * - JOIN(2): empty (ask the coordinator for membership)
 * - REDIRECT(3): ip:str, port:u16 (the coordinator is there)
 * - VIEW(4): epoch:u32, stripes:u8, periodMs:u32, liveSeq:i32, coordinator:str, n:u16,
 *   n x member{id:str, p2pPort:u16, httpPort:u16, slots:u16, home:i8, flags:u8, sent:f64},
 *   then per stripe: m:u16, m x edge{child:u16, parent:u16} (indexes into the member list)
 * - HEARTBEAT(5): maxSeq:i32, sent:f64, flags:u8 (bit0 direct)
 * - SUBSCRIBE(6): stripe:u8, fromSeq:i32 (-1: from the live edge)
 * - UNSUBSCRIBE(7): stripe:u8
 * - REFUSED(8): stripe:u8, reason:u8 (1 slots full, 2 not in view)
 * - CHUNK(9): seq:u32, sha256:32 bytes, originMs:f64, data: the rest (the chunk's bytes)
 * - FETCH(10): seq:u32 (send me this chunk if you hold it)
 * - MISSING(11): seq:u32 (I do not hold it)
 * - SUSPECT(12): id:str (my link to this peer died)
 * - BYE(13): reason:u8 (0 leaving)
 * - ANNOUNCE(14): seq:u32, sha256:32 bytes (the source's hash of a chunk)
 * - SUBSCRIBED(15): stripe:u8, fromSeq:i32 (subscription accepted, the stripe flows from fromSeq)
 */
import { relayError } from '../errors';
import { MAX_CHUNK_BYTES } from '../constants';

/** Protocol version carried by every frame. */
export const PROTOCOL_VERSION = 1;
/** Bytes of the length prefix. */
export const LEN_BYTES = 4;
/** Largest `len` accepted: one chunk plus its CHUNK header, with room to spare. */
export const MAX_FRAME_BYTES = MAX_CHUNK_BYTES + 1024;
/** Largest VIEW member list (u16 on the wire). */
export const MAX_MEMBERS = 65535;
/** Largest stripe count (u8 on the wire; sensible values are 1-8). */
export const MAX_STRIPES = 16;

/** Message type codes. */
export const MsgType = {
  HELLO: 1, JOIN: 2, REDIRECT: 3, VIEW: 4, HEARTBEAT: 5, SUBSCRIBE: 6, UNSUBSCRIBE: 7,
  REFUSED: 8, CHUNK: 9, FETCH: 10, MISSING: 11, SUSPECT: 12, BYE: 13, ANNOUNCE: 14, SUBSCRIBED: 15,
} as const;

/** A member as carried in a VIEW. */
export interface WireMember {
  /** Stable id of the member (its IP). */
  id: string;
  /** TCP port of the member's P2P listener (u16). */
  p2pPort: number;
  /** TCP port of the member's HTTP (status/metrics) server (u16). */
  httpPort: number;
  /** Downstream slots: most children edges the member accepts over all stripes (u16). */
  slots: number;
  /** Home stripe (interior there, leaf elsewhere), or -1 when the member has none (i8). */
  home: number;
  /** True when the member holds a server slot (the server pushes chunks to it directly). */
  direct: boolean;
  /** Chunk bytes the member has sent to other peers so far, to children and FETCH answers (balance input; f64). */
  sent: number;
}

/** Every P2P message, discriminated by `type`. */
export type PeerMessage =
  | { type: 'hello'; id: string; p2pPort: number; httpPort: number; slots: number; channel: number; direct: boolean; maxSeq: number }
  | { type: 'join' }
  | { type: 'redirect'; ip: string; port: number }
  | { type: 'view'; epoch: number; stripes: number; periodMs: number; liveSeq: number; coordinator: string; members: WireMember[]; edges: [number, number][][] }
  | { type: 'heartbeat'; maxSeq: number; sent: number; direct: boolean }
  | { type: 'subscribe'; stripe: number; fromSeq: number }
  | { type: 'unsubscribe'; stripe: number }
  | { type: 'refused'; stripe: number; reason: number }
  | { type: 'chunk'; seq: number; hash: Buffer; originMs: number; data: Uint8Array }
  | { type: 'fetch'; seq: number }
  | { type: 'missing'; seq: number }
  | { type: 'suspect'; id: string }
  | { type: 'bye'; reason: number }
  | { type: 'announce'; seq: number; hash: Buffer }
  | { type: 'subscribed'; stripe: number; fromSeq: number };

const TYPE_OF: Record<PeerMessage['type'], number> = {
  hello: 1, join: 2, redirect: 3, view: 4, heartbeat: 5, subscribe: 6, unsubscribe: 7,
  refused: 8, chunk: 9, fetch: 10, missing: 11, suspect: 12, bye: 13, announce: 14, subscribed: 15,
};

/** Appends fields to a growing byte list. */
class Writer {
  private parts: number[] = [];
  private bufs: Buffer[] = [];
  private flush(): void {
    if (this.parts.length) this.bufs.push(Buffer.from(this.parts));
    this.parts = [];
  }
  /** @brief Appends one byte (the low 8 bits of `v`). @param v The value. @return this, for chaining. */
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  /** @brief Appends a signed byte (two's complement). @param v The value, -128..127. @return this, for chaining. */
  i8(v: number): this { return this.u8(v < 0 ? 256 + v : v); }
  /** @brief Appends an unsigned 16-bit integer, big-endian. @param v The value, 0..65535. @return this, for chaining. */
  u16(v: number): this { return this.u8(v >>> 8).u8(v); }
  /** @brief Appends an unsigned 32-bit integer, big-endian. @param v The value. @return this, for chaining. */
  u32(v: number): this { return this.u16(v >>> 16).u16(v & 0xffff); }
  /** @brief Appends a signed 32-bit integer, big-endian two's complement. @param v The value (-1: none). @return this, for chaining. */
  i32(v: number): this { return this.u32(v >>> 0); }
  /** @brief Appends an IEEE-754 double, 8 bytes big-endian. @param v The value. @return this, for chaining. */
  f64(v: number): this { const b = Buffer.alloc(8); b.writeDoubleBE(v); return this.raw(b); }
  /**
   * @brief Appends a string as `u8 length + UTF-8`; throws BAD_FRAME past 255 bytes.
   * @param s The string.
   * @return this, for chaining.
   */
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 255) throw relayError('BAD_FRAME', `string longer than 255 bytes`);
    return this.u8(b.length).raw(b);
  }
  /** @brief Appends bytes as they are, without copying them (a view on the same memory). @param b The bytes. @return this, for chaining. */
  raw(b: Uint8Array): this { this.flush(); this.bufs.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength)); return this; }
  /** @brief Ends the writing. @return The written fields as a list of buffers, in order. */
  done(): Buffer[] { this.flush(); return this.bufs; }
}

/** Reads fields from a body, throwing BAD_FRAME past its end. */
class Reader {
  private off = 0;
  /**
   * @param buf The message body to read.
   * @param what What the body is, named in BAD_FRAME errors.
   */
  constructor(private readonly buf: Buffer, private readonly what: string) {}
  private need(n: number): number {
    if (this.off + n > this.buf.length) throw relayError('BAD_FRAME', `${this.what} truncated`);
    const at = this.off;
    this.off += n;
    return at;
  }
  /** @brief Reads one unsigned byte. @return The value, 0..255. */
  u8(): number { return this.buf[this.need(1)]; }
  /** @brief Reads a signed byte. @return The value, -128..127. */
  i8(): number { return this.buf.readInt8(this.need(1)); }
  /** @brief Reads an unsigned 16-bit big-endian integer. @return The value, 0..65535. */
  u16(): number { return this.buf.readUInt16BE(this.need(2)); }
  /** @brief Reads an unsigned 32-bit big-endian integer. @return The value. */
  u32(): number { return this.buf.readUInt32BE(this.need(4)); }
  /** @brief Reads a signed 32-bit big-endian integer. @return The value (-1: none, for sequences). */
  i32(): number { return this.buf.readInt32BE(this.need(4)); }
  /** @brief Reads an 8-byte big-endian IEEE-754 double. @return The value. */
  f64(): number { return this.buf.readDoubleBE(this.need(8)); }
  /** @brief Reads a `u8 length + UTF-8` string. @return The string. */
  str(): string { const n = this.u8(); return this.buf.toString('utf8', this.need(n), this.off); }
  /** @brief Reads `n` bytes, not copied. @param n How many. @return A view on the body's bytes. */
  bytes(n: number): Buffer { const at = this.need(n); return this.buf.subarray(at, at + n); }
  /** @brief Reads everything left in the body, not copied. @return A view on the remaining bytes (maybe empty). */
  rest(): Buffer { const at = this.off; this.off = this.buf.length; return this.buf.subarray(at); }
  /** @brief Checks the body was read to its end; throws BAD_FRAME on trailing bytes. */
  end(): void { if (this.off !== this.buf.length) throw relayError('BAD_FRAME', `${this.what} has trailing bytes`); }
}

/**
 * @brief Encodes a message as a frame.
 * @param msg The message.
 * @return The frame as a list of buffers (a CHUNK's data is not copied: it is the last item).
 */
export function encode(msg: PeerMessage): Buffer[] {
  const w = new Writer();
  switch (msg.type) {
    case 'hello':
      w.str(msg.id).u16(msg.p2pPort).u16(msg.httpPort).u16(msg.slots).u8(msg.channel).u8(msg.direct ? 1 : 0).i32(msg.maxSeq); break;
    case 'join': break;
    case 'redirect': w.str(msg.ip).u16(msg.port); break;
    case 'view':
      w.u32(msg.epoch).u8(msg.stripes).u32(msg.periodMs).i32(msg.liveSeq).str(msg.coordinator).u16(msg.members.length);
      for (const m of msg.members) w.str(m.id).u16(m.p2pPort).u16(m.httpPort).u16(m.slots).i8(m.home).u8(m.direct ? 1 : 0).f64(m.sent);
      for (let s = 0; s < msg.stripes; s++) {
        const e = msg.edges[s] ?? [];
        w.u16(e.length);
        for (const [c, p] of e) w.u16(c).u16(p);
      }
      break;
    case 'heartbeat': w.i32(msg.maxSeq).f64(msg.sent).u8(msg.direct ? 1 : 0); break;
    case 'subscribe': case 'subscribed': w.u8(msg.stripe).i32(msg.fromSeq); break;
    case 'unsubscribe': w.u8(msg.stripe); break;
    case 'refused': w.u8(msg.stripe).u8(msg.reason); break;
    case 'chunk':
      if (msg.hash.length !== 32) throw relayError('BAD_FRAME', 'chunk hash is not 32 bytes');
      if (msg.data.byteLength > MAX_CHUNK_BYTES) throw relayError('CHUNK_TOO_LARGE', `${msg.data.byteLength} bytes`);
      w.u32(msg.seq).raw(msg.hash).f64(msg.originMs).raw(msg.data); break;
    case 'fetch': case 'missing': w.u32(msg.seq); break;
    case 'suspect': w.str(msg.id); break;
    case 'bye': w.u8(msg.reason); break;
    case 'announce':
      if (msg.hash.length !== 32) throw relayError('BAD_FRAME', 'announce hash is not 32 bytes');
      w.u32(msg.seq).raw(msg.hash); break;
  }
  const body = w.done();
  const len = 2 + body.reduce((n, b) => n + b.length, 0);
  const head = Buffer.alloc(LEN_BYTES + 2);
  head.writeUInt32BE(len, 0);
  head[4] = PROTOCOL_VERSION;
  head[5] = TYPE_OF[msg.type];
  return [head, ...body];
}

/**
 * @brief Decodes one frame's body.
 * @param type The frame's type byte.
 * @param body The body (after version and type).
 * @return The message; throws RelayError BAD_FRAME on any malformed body.
 */
export function decode(type: number, body: Buffer): PeerMessage {
  const r = new Reader(body, `message type ${type}`);
  let msg: PeerMessage;
  switch (type) {
    case 1: msg = { type: 'hello', id: r.str(), p2pPort: r.u16(), httpPort: r.u16(), slots: r.u16(), channel: r.u8(), direct: (r.u8() & 1) === 1, maxSeq: r.i32() }; break;
    case 2: msg = { type: 'join' }; break;
    case 3: msg = { type: 'redirect', ip: r.str(), port: r.u16() }; break;
    case 4: msg = decodeView(r); break;
    case 5: msg = { type: 'heartbeat', maxSeq: r.i32(), sent: r.f64(), direct: (r.u8() & 1) === 1 }; break;
    case 6: msg = { type: 'subscribe', stripe: r.u8(), fromSeq: r.i32() }; break;
    case 7: msg = { type: 'unsubscribe', stripe: r.u8() }; break;
    case 8: msg = { type: 'refused', stripe: r.u8(), reason: r.u8() }; break;
    case 9: {
      const seq = r.u32();
      const hash = r.bytes(32);
      const originMs = r.f64();
      const data = r.rest();
      if (data.length > MAX_CHUNK_BYTES) throw relayError('CHUNK_TOO_LARGE', `${data.length} bytes`);
      msg = { type: 'chunk', seq, hash, originMs, data };
      break;
    }
    case 10: msg = { type: 'fetch', seq: r.u32() }; break;
    case 11: msg = { type: 'missing', seq: r.u32() }; break;
    case 12: msg = { type: 'suspect', id: r.str() }; break;
    case 13: msg = { type: 'bye', reason: r.u8() }; break;
    case 14: msg = { type: 'announce', seq: r.u32(), hash: r.bytes(32) }; break;
    case 15: msg = { type: 'subscribed', stripe: r.u8(), fromSeq: r.i32() }; break;
    default: throw relayError('BAD_FRAME', `unknown message type ${type}`);
  }
  r.end();
  return msg;
}

/** Decodes a VIEW body (validated: indexes in range, stripes bounded). */
function decodeView(r: Reader): PeerMessage {
  const epoch = r.u32();
  const stripes = r.u8();
  if (stripes < 1 || stripes > MAX_STRIPES) throw relayError('BAD_FRAME', `view with ${stripes} stripes`);
  const periodMs = r.u32();
  const liveSeq = r.i32();
  const coordinator = r.str();
  const n = r.u16();
  const members: WireMember[] = [];
  for (let i = 0; i < n; i++) {
    members.push({ id: r.str(), p2pPort: r.u16(), httpPort: r.u16(), slots: r.u16(), home: r.i8(), direct: (r.u8() & 1) === 1, sent: r.f64() });
  }
  const edges: [number, number][][] = [];
  for (let s = 0; s < stripes; s++) {
    const m = r.u16();
    const list: [number, number][] = [];
    for (let i = 0; i < m; i++) {
      const c = r.u16();
      const p = r.u16();
      if (c >= n || p >= n) throw relayError('BAD_FRAME', `view edge ${c}->${p} outside ${n} members`);
      list.push([c, p]);
    }
    edges.push(list);
  }
  return { type: 'view', epoch, stripes, periodMs, liveSeq, coordinator, members, edges };
}

/**
 * Splits a byte stream into frames. Bytes are accumulated until a whole frame is present;
 * a frame's body is allocated through `alloc` (the peer allocates chunk bodies in shared
 * memory so the worker pool can hash and write them without a copy).
 */
export class FrameDecoder {
  private head = Buffer.alloc(LEN_BYTES + 2);
  private headFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;
  private type = 0;

  /**
   * @param alloc Allocates a body buffer of the given size for the given type (default Buffer.allocUnsafe).
   * @param maxFrame Largest `len` accepted.
   */
  constructor(private readonly alloc: (size: number, type: number) => Buffer = (n) => Buffer.allocUnsafe(n),
    private readonly maxFrame = MAX_FRAME_BYTES) {}

  /**
   * @brief Feeds bytes; returns the frames completed by them.
   * @param data Bytes from the stream.
   * @return Complete frames as `{type, body}`; throws BAD_VERSION / FRAME_TOO_LARGE / BAD_FRAME.
   */
  push(data: Buffer): { type: number; body: Buffer }[] {
    const out: { type: number; body: Buffer }[] = [];
    let off = 0;
    while (off < data.length) {
      if (this.body === null) {
        const n = Math.min(this.head.length - this.headFill, data.length - off);
        data.copy(this.head, this.headFill, off, off + n);
        this.headFill += n;
        off += n;
        if (this.headFill < this.head.length) break;
        const len = this.head.readUInt32BE(0);
        if (this.head[4] !== PROTOCOL_VERSION) throw relayError('BAD_VERSION', `version ${this.head[4]}, expected ${PROTOCOL_VERSION}`);
        if (len < 2) throw relayError('BAD_FRAME', `frame length ${len}`);
        if (len > this.maxFrame) throw relayError('FRAME_TOO_LARGE', `frame of ${len} bytes > ${this.maxFrame}`);
        this.type = this.head[5];
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

  /** @brief True when no partial frame is buffered. */
  idle(): boolean {
    return this.body === null && this.headFill === 0;
  }
}
