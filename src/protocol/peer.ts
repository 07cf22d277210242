/**
 * @file peer.ts
 * @brief Every message of the P2P protocol (version 2) in one declarative table. Pure, no sockets.
 *
 * Each row of CODECS gives a message its type byte, its largest frame and its encode/decode
 * pair; the type ids, the decode map and the per-type frame bounds all derive from the table, so
 * a new message is one row. Frames are described in framing.ts. Body layouts (big-endian;
 * `ref` = id:str, p2pPort:u16, httpPort:u16; `id` = an IP literal as str; `?x` = u8 flag + x):
 * - 1 HELLO: id, p2pPort:u16, httpPort:u16, slots:u16, channel:u8, flags:u8 (bit0 direct,
 *   bit1 the overlay needs a key), nonce:16 bytes. The first frame on every connection.
 * - 2 AUTH: mac:32 bytes = HMAC-SHA256(overlay key, "relaytv-auth" | remote nonce | own id | remote id).
 * - 3 JOIN: empty. 4 REDIRECT: ref (the coordinator is there).
 * - 5 UPDATE (what one member needs, coordinator -> member): flags:u8 (bit0 full), epoch:u32,
 *   since:u32 (epoch of the previous update to this member; a gap asks RESYNC), stripes:u8,
 *   periodMs:u32, liveSeq:i32, coordinator:ref, n:u8 x successor ref, ?(source id, key:32),
 *   n:u8 x (stripe:u8, ?parent ref), n:u16 x (stripe:u8, add:u8, child id).
 * - 6 REPLICA (the whole membership, coordinator -> successors): flags:u8 (bit0 full), epoch:u32,
 *   since:u32, stripes:u8, n:u32 x op; op = 1 member (id, p2pPort, httpPort, slots:u16, home:i8) |
 *   2 gone (id) | 3 edge (stripe:u8, child id, parent id or "").
 * - 7 RESYNC: what:u8 (1 update, 2 replica). 8 HEARTBEAT: maxSeq:i32, flags:u8 (bit0 direct, bit1 watching:
 *   the sender watches this link and wants heartbeats back while the link is quiet).
 * - 9 SUBSCRIBE / 10 SUBSCRIBED: stripe:u8, fromSeq:i32. 11 UNSUBSCRIBE: stripe:u8.
 * - 12 REFUSED: stripe:u8, reason:u8 (RefuseReason).
 * - 13 CHUNK: seq:u32, originMs:f64, sha256:32, signature:64 (the source's Ed25519 over
 *   channel, seq, originMs, sha256), data: the rest.
 * - 14: reserved (ANNOUNCE in version 1; the source's signature in CHUNK replaced it).
 * - 15 FETCH / 16 MISSING: seq:u32. 17 SUSPECT: id, reason:u8 (SuspectReason).
 * - 18 BYE: reason:u8 (ByeReason), ?ref (where to go when abdicating). 19 PING / 20 PONG: nonce:u32.
 */
import { relayError } from '../errors';
import { MAX_CHUNK_BYTES, REPLICA_PAGE_OPS, MAX_STRIPES, MAX_SUCCESSORS, MAX_SLOTS } from '../constants';
import { frame, FrameDecoder, Reader, Writer } from './framing';

/** A member as another member must know it: where to reach it. */
export interface MemberRef {
  /** Its id: its IP. */
  id: string;
  /** Its P2P port. */
  p2pPort: number;
  /** Its /status and /metrics port. */
  httpPort: number;
}

/** Why a subscription was refused. */
export const RefuseReason = { SLOTS_FULL: 1, NOT_CHILD: 2 } as const;
/**
 * Why a member is reported to the coordinator. REFUSED: our parent refuses our SUBSCRIBE as
 * from a stranger (its view does not name us as its child).
 */
export const SuspectReason = { LINK_DIED: 1, SLOW: 2, BAD_DATA: 3, REFUSED: 4 } as const;
/** Why a peer says goodbye. */
export const ByeReason = { LEAVING: 0, ABDICATING: 1 } as const;
/** What a RESYNC asks for. */
export const ResyncWhat = { UPDATE: 1, REPLICA: 2 } as const;

/** One operation of a REPLICA. */
export type ReplicaOp =
  | { op: 'member'; ref: MemberRef; slots: number; home: number }
  | { op: 'gone'; id: string }
  | { op: 'edge'; stripe: number; child: string; parent: string };

/** Every P2P message, discriminated by `type`. */
export type PeerMessage =
  | { type: 'hello'; id: string; p2pPort: number; httpPort: number; slots: number; channel: number; direct: boolean; keyRequired: boolean; nonce: Buffer }
  | { type: 'auth'; mac: Buffer }
  | { type: 'join' }
  | { type: 'redirect'; to: MemberRef }
  | { type: 'update'; full: boolean; epoch: number; since: number; stripes: number; periodMs: number; liveSeq: number;
      coordinator: MemberRef; successors: MemberRef[]; source: { id: string; key: Buffer } | null;
      parents: { stripe: number; parent: MemberRef | null }[]; children: { stripe: number; id: string; add: boolean }[] }
  | { type: 'replica'; full: boolean; epoch: number; since: number; stripes: number; ops: ReplicaOp[] }
  | { type: 'resync'; what: number }
  | { type: 'heartbeat'; maxSeq: number; direct: boolean; watching: boolean }
  | { type: 'subscribe'; stripe: number; fromSeq: number }
  | { type: 'subscribed'; stripe: number; fromSeq: number }
  | { type: 'unsubscribe'; stripe: number }
  | { type: 'refused'; stripe: number; reason: number }
  | { type: 'chunk'; seq: number; originMs: number; hash: Buffer; sig: Buffer; data: Uint8Array }
  | { type: 'fetch'; seq: number }
  | { type: 'missing'; seq: number }
  | { type: 'suspect'; id: string; reason: number }
  | { type: 'bye'; reason: number; to: MemberRef | null }
  | { type: 'ping'; nonce: number }
  | { type: 'pong'; nonce: number };

/** A message type name. */
export type MsgName = PeerMessage['type'];
/** The message of a given name. */
export type Msg<T extends MsgName> = Extract<PeerMessage, { type: T }>;

/** One row of the table. */
interface Codec<M extends PeerMessage> {
  /** Type byte on the wire. */
  id: number;
  /** Largest frame `len` (version + type + body), checked before the body is allocated. */
  max: number;
  /** Writes the body. */
  encode(w: Writer, m: M): void;
  /** Reads the body (the reader checks the end). */
  decode(r: Reader): M;
}

/** Bytes of a SHA-256. */
export const HASH_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const SIG_BYTES = 64;
/** Bytes of an Ed25519 public key (raw). */
export const KEY_BYTES = 32;
/** Bytes of a HELLO nonce. */
export const NONCE_BYTES = 16;
/** Largest encoded ref: id (1 + 45) + two ports. */
const REF_BYTES = 50;

const ref = {
  write: (w: Writer, r: MemberRef) => w.str(r.id).u16(r.p2pPort).u16(r.httpPort),
  read: (r: Reader): MemberRef => ({ id: r.ip(), p2pPort: r.u16(), httpPort: r.u16() }),
};
const stripeOf = (r: Reader): number => {
  const s = r.u8();
  if (s >= MAX_STRIPES) throw relayError('BAD_FRAME', `stripe ${s} >= ${MAX_STRIPES}`);
  return s;
};

/** The table: one row per message. */
export const CODECS: { [T in MsgName]: Codec<Msg<T>> } = {
  hello: {
    id: 1, max: 128,
    encode: (w, m) => w.str(m.id).u16(m.p2pPort).u16(m.httpPort).u16(m.slots).u8(m.channel)
      .u8((m.direct ? 1 : 0) | (m.keyRequired ? 2 : 0)).fixed(m.nonce, NONCE_BYTES),
    decode: (r) => {
      const id = r.ip(); const p2pPort = r.u16(); const httpPort = r.u16(); const slots = r.u16();
      if (slots > MAX_SLOTS) throw relayError('BAD_FRAME', `slots ${slots} > ${MAX_SLOTS}`);
      const channel = r.u8(); const flags = r.flags(3);
      return { type: 'hello', id, p2pPort, httpPort, slots, channel, direct: (flags & 1) !== 0, keyRequired: (flags & 2) !== 0, nonce: r.bytes(NONCE_BYTES) };
    },
  },
  auth: { id: 2, max: 2 + 32, encode: (w, m) => w.fixed(m.mac, 32), decode: (r) => ({ type: 'auth', mac: r.bytes(32) }) },
  join: { id: 3, max: 2, encode: () => undefined, decode: () => ({ type: 'join' }) },
  redirect: { id: 4, max: 2 + REF_BYTES, encode: (w, m) => ref.write(w, m.to), decode: (r) => ({ type: 'redirect', to: ref.read(r) }) },
  update: {
    id: 5, max: 64 * 1024,
    encode: (w, m) => {
      w.u8(m.full ? 1 : 0).u32(m.epoch).u32(m.since).u8(m.stripes).u32(m.periodMs).i32(m.liveSeq);
      ref.write(w, m.coordinator);
      w.u8(m.successors.length);
      for (const s of m.successors) ref.write(w, s);
      w.u8(m.source ? 1 : 0);
      if (m.source) w.str(m.source.id).fixed(m.source.key, KEY_BYTES);
      w.u8(m.parents.length);
      for (const p of m.parents) { w.u8(p.stripe).u8(p.parent ? 1 : 0); if (p.parent) ref.write(w, p.parent); }
      w.u16(m.children.length);
      for (const c of m.children) w.u8(c.stripe).u8(c.add ? 1 : 0).str(c.id);
    },
    decode: (r) => {
      const full = r.bool(); const epoch = r.u32(); const since = r.u32();
      const stripes = r.u8();
      if (stripes < 1 || stripes > MAX_STRIPES) throw relayError('BAD_FRAME', `update with ${stripes} stripes`);
      const periodMs = r.u32(); const liveSeq = r.i32(); const coordinator = ref.read(r);
      const successors = Array.from({ length: countU8(r, MAX_SUCCESSORS) }, () => ref.read(r));
      const source = r.bool() ? { id: r.ip(), key: r.bytes(KEY_BYTES) } : null;
      const parents = Array.from({ length: countU8(r, MAX_STRIPES) }, () => ({ stripe: stripeOf(r), parent: r.bool() ? ref.read(r) : null }));
      const children = Array.from({ length: r.count(MAX_SLOTS * MAX_STRIPES) }, () => ({ stripe: stripeOf(r), add: r.bool(), id: r.ip() }));
      return { type: 'update', full, epoch, since, stripes, periodMs, liveSeq, coordinator, successors, source, parents, children };
    },
  },
  replica: {
    id: 6, max: 4 * 1024 * 1024,
    encode: (w, m) => {
      w.u8(m.full ? 1 : 0).u32(m.epoch).u32(m.since).u8(m.stripes).u32(m.ops.length);
      for (const o of m.ops) {
        if (o.op === 'member') { w.u8(1); ref.write(w, o.ref); w.u16(o.slots).i8(o.home); }
        else if (o.op === 'gone') w.u8(2).str(o.id);
        else w.u8(3).u8(o.stripe).str(o.child).str(o.parent);
      }
    },
    decode: (r) => {
      const full = r.bool(); const epoch = r.u32(); const since = r.u32();
      const stripes = r.u8();
      if (stripes < 1 || stripes > MAX_STRIPES) throw relayError('BAD_FRAME', `replica with ${stripes} stripes`);
      const ops = Array.from({ length: r.count(REPLICA_PAGE_OPS, true) }, (): ReplicaOp => {
        const tag = r.enum([1, 2, 3]);
        if (tag === 1) {
          const mref = ref.read(r); const slots = r.u16(); const home = r.i8();
          if (slots > MAX_SLOTS || home >= MAX_STRIPES) throw relayError('BAD_FRAME', `member with slots ${slots}, home ${home}`);
          return { op: 'member', ref: mref, slots, home };
        }
        if (tag === 2) return { op: 'gone', id: r.ip() };
        return { op: 'edge', stripe: stripeOf(r), child: r.ip(), parent: r.ipOrNone() };
      });
      return { type: 'replica', full, epoch, since, stripes, ops };
    },
  },
  resync: { id: 7, max: 3, encode: (w, m) => w.u8(m.what), decode: (r) => ({ type: 'resync', what: r.enum(Object.values(ResyncWhat)) }) },
  heartbeat: {
    id: 8, max: 7, encode: (w, m) => w.i32(m.maxSeq).u8((m.direct ? 1 : 0) | (m.watching ? 2 : 0)),
    decode: (r) => {
      const maxSeq = r.i32(); const flags = r.flags(3);
      return { type: 'heartbeat', maxSeq, direct: (flags & 1) !== 0, watching: (flags & 2) !== 0 };
    },
  },
  subscribe: { id: 9, max: 7, encode: (w, m) => w.u8(m.stripe).i32(m.fromSeq), decode: (r) => ({ type: 'subscribe', stripe: stripeOf(r), fromSeq: r.i32() }) },
  subscribed: { id: 10, max: 7, encode: (w, m) => w.u8(m.stripe).i32(m.fromSeq), decode: (r) => ({ type: 'subscribed', stripe: stripeOf(r), fromSeq: r.i32() }) },
  unsubscribe: { id: 11, max: 3, encode: (w, m) => w.u8(m.stripe), decode: (r) => ({ type: 'unsubscribe', stripe: stripeOf(r) }) },
  refused: {
    id: 12, max: 4, encode: (w, m) => w.u8(m.stripe).u8(m.reason),
    decode: (r) => ({ type: 'refused', stripe: stripeOf(r), reason: r.enum(Object.values(RefuseReason)) }),
  },
  chunk: {
    id: 13, max: 2 + 4 + 8 + HASH_BYTES + SIG_BYTES + MAX_CHUNK_BYTES,
    encode: (w, m) => w.u32(m.seq).f64(m.originMs).fixed(m.hash, HASH_BYTES).fixed(m.sig, SIG_BYTES).raw(m.data),
    decode: (r) => ({ type: 'chunk', seq: r.u32(), originMs: r.f64(), hash: r.bytes(HASH_BYTES), sig: r.bytes(SIG_BYTES), data: r.rest() }),
  },
  fetch: { id: 15, max: 6, encode: (w, m) => w.u32(m.seq), decode: (r) => ({ type: 'fetch', seq: r.u32() }) },
  missing: { id: 16, max: 6, encode: (w, m) => w.u32(m.seq), decode: (r) => ({ type: 'missing', seq: r.u32() }) },
  suspect: {
    id: 17, max: 2 + 46 + 1, encode: (w, m) => w.str(m.id).u8(m.reason),
    decode: (r) => ({ type: 'suspect', id: r.ip(), reason: r.enum(Object.values(SuspectReason)) }),
  },
  bye: {
    id: 18, max: 2 + 2 + REF_BYTES,
    encode: (w, m) => { w.u8(m.reason).u8(m.to ? 1 : 0); if (m.to) ref.write(w, m.to); },
    decode: (r) => ({ type: 'bye', reason: r.enum(Object.values(ByeReason)), to: r.bool() ? ref.read(r) : null }),
  },
  ping: { id: 19, max: 6, encode: (w, m) => w.u32(m.nonce), decode: (r) => ({ type: 'ping', nonce: r.u32() }) },
  pong: { id: 20, max: 6, encode: (w, m) => w.u32(m.nonce), decode: (r) => ({ type: 'pong', nonce: r.u32() }) },
};

/** A u8 count bounded by `max`. */
function countU8(r: Reader, max: number): number {
  const n = r.u8();
  if (n > max) throw relayError('BAD_FRAME', `${n} items > ${max}`);
  return n;
}

/** Type byte of every message name. */
export const MsgType = Object.fromEntries(Object.entries(CODECS).map(([name, c]) => [name, c.id])) as { [T in MsgName]: number };
/** Message name of every type byte. */
const NAME_OF = new Map<number, MsgName>(Object.entries(CODECS).map(([name, c]) => [c.id, name as MsgName]));
/** Largest frame per type byte (what FrameDecoder checks before allocating). */
export const MAX_FRAME = new Map<number, number>(Object.values(CODECS).map((c) => [c.id, c.max]));

/**
 * @brief Encodes a message as a frame.
 * @param msg The message.
 * @return The frame as buffers (a CHUNK's data is not copied); throws BAD_FRAME on a field out of range.
 */
export function encode(msg: PeerMessage): Buffer[] {
  const codec = CODECS[msg.type] as Codec<PeerMessage>;
  const w = new Writer();
  codec.encode(w, msg);
  return frame(codec.id, w.done());
}

/**
 * @brief Decodes one frame's body.
 * @param type The frame's type byte.
 * @param body The body.
 * @return The message; throws RelayError BAD_FRAME on any malformed body.
 */
export function decode(type: number, body: Buffer): PeerMessage {
  const name = NAME_OF.get(type);
  if (!name) throw relayError('BAD_FRAME', `unknown message type ${type}`);
  const r = new Reader(body, name);
  const msg = (CODECS[name] as Codec<PeerMessage>).decode(r);
  r.end();
  return msg;
}

/**
 * @brief A frame decoder bounded by this protocol's per-type limits.
 * @param alloc Allocates a frame body (chunk bodies in shared memory).
 * @return The decoder.
 */
export function peerFrameDecoder(alloc?: (size: number, type: number) => Buffer): FrameDecoder {
  return new FrameDecoder(MAX_FRAME, alloc);
}
