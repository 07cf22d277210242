/**
 * @file session.ts
 * @brief One P2P connection's protocol state: framing, handshake, identity, liveness, backpressure.
 *
 * A session never dials or accepts: whoever owns the connection passes a Duplex in (STYLE 3).
 * States: `handshake` (HELLO sent, waiting for the remote's) -> `auth` (with an overlay key:
 * AUTH sent, waiting for the remote's) -> `open` -> `closed`, through one teardown, `close(code)`.
 * Identity is bound to the connection: the remote's HELLO id must be the address the
 * connection comes from (inbound) or the address we dialed (outbound), so nobody can speak for
 * another peer. Liveness: every byte received refreshes `lastRx`; on a *watched* session (a
 * parent, a child, the coordinator-successor link) the owner's one tick sends a HEARTBEAT when
 * we were quiet and closes the session after `timeoutMs` of silence. A heartbeat says whether
 * its sender watches the link: an unwatched end answers those with heartbeats of its own while
 * it is quiet (the two ends' views of a link change a moment apart). `send` never throws;
 * `sendChunk` refuses (returns false) once SEND_QUEUE_BYTES wait in the socket for this remote.
 */
import { EventEmitter } from 'node:events';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { decode, encode, peerFrameDecoder, MsgType, PeerMessage, Msg } from '../protocol/peer';
import type { FrameDecoder } from '../protocol/framing';
import { RelayError } from '../errors';
import { canonicalIp } from '../util/ip';
import { SEND_QUEUE_BYTES, SLOW_RECEIVER_MS } from '../constants';
import type { Ledger } from './stats';

/** Why a session closed: an error code, or one of the orderly reasons. */
export type CloseCode = string;

/** Options of a session. */
export interface SessionOptions {
  /** Our HELLO (with our fresh nonce), sent at once. */
  hello: Msg<'hello'>;
  /** True when we dialed. */
  outbound: boolean;
  /** Outbound: the address we dialed (the remote must claim exactly it). */
  dialed?: string;
  /** The overlay's shared key, or null for an open overlay. */
  key: Buffer | null;
  /** Allocates a frame body (CHUNK bodies in shared memory). */
  alloc?: (size: number, type: number) => Buffer;
  /** Clock, ms. */
  now: () => number;
  /** Send a heartbeat after this much quiet on a watched session, ms. */
  heartbeatMs: number;
  /** Declare a watched remote dead after this much silence, ms. */
  timeoutMs: number;
  /** Time the handshake may take, ms. */
  helloTimeoutMs: number;
  /**
   * Bytes queued to the remote and none of them taken for this long: it stopped reading, the
   * session is closed (SLOW_RECEIVER) and what it held is freed, ms (default SLOW_RECEIVER_MS).
   */
  slowReceiverMs?: number;
  /** Our newest sequence, for heartbeats. */
  maxSeq: () => number;
  /** Whether we hold a direct slot, for heartbeats. */
  direct: () => boolean;
  /** The peer's ledger (control and chunk bytes). */
  stats?: Ledger;
}

/** Events: `open` (remote HELLO), `message` (PeerMessage), `close` (code). */
export class Session extends EventEmitter {
  /** The remote's HELLO once the handshake is done. */
  remote: Msg<'hello'> | null = null;
  /** Lifecycle state. */
  state: 'handshake' | 'auth' | 'open' | 'closed' = 'handshake';
  /** Why the session closed. */
  closeCode: CloseCode = '';
  private isWatched = false;
  /** When the session last became watched: its silence is judged from then on, not before. */
  private watchedSinceMs = 0;
  /** Newest sequence the remote holds, from its heartbeats (-1 when unknown). */
  remoteMaxSeq = -1;
  /** CHUNK payload bytes sent and received. */
  chunkBytesSent = 0;
  /** CHUNK payload bytes received. */
  chunkBytesReceived = 0;
  /** Bytes of non-CHUNK frames sent and received (control traffic). */
  controlBytesSent = 0;
  /** Bytes of non-CHUNK frames received. */
  controlBytesReceived = 0;
  /** The remote's address as the connection reports it (canonical). */
  readonly address: string;
  /** True when we dialed. */
  readonly outbound: boolean;
  private lastRxMs: number;
  /** Until when the remote watches this link (its heartbeats say so), or 0. */
  private remoteWatchesUntil = 0;
  private lastTxMs: number;
  /** Bytes handed to the stream in all (taken by the remote = this - queuedBytes). */
  private bytesWritten = 0;
  /** Bytes the remote had taken at the last tick, and since when it took none with some queued. */
  private takenAtTick = 0;
  private stuckSinceMs = 0;
  private readonly openedMs: number;
  private readonly decoder: FrameDecoder;

  /**
   * @param stream The connection (a socket, or an in-memory stream).
   * @param remoteAddress The address the connection comes from.
   * @param opts Session options.
   */
  constructor(private readonly stream: Duplex, remoteAddress: string, private readonly opts: SessionOptions) {
    super();
    this.address = canonicalIp(remoteAddress);
    this.outbound = opts.outbound;
    this.lastRxMs = this.lastTxMs = this.openedMs = opts.now();
    this.decoder = peerFrameDecoder(opts.alloc);
    stream.on('data', (buf: Buffer) => this.onData(buf));
    stream.on('error', () => this.close('CLOSED'));
    stream.on('close', () => this.close('CLOSED'));
    stream.on('end', () => this.close('CLOSED'));
    this.send(opts.hello);
  }

  /** @brief Remote id (its IP) once known, else ''. */
  get id(): string {
    return this.remote?.id ?? '';
  }

  /** @brief Time since anything went either way, ms. */
  idleMs(now: number): number {
    return now - Math.max(this.lastRxMs, this.lastTxMs);
  }

  /** @brief Bytes queued in the connection and not yet taken by the remote. */
  get queuedBytes(): number {
    return this.stream.writableLength;
  }

  /**
   * @brief Sends one message; never throws.
   * @param msg The message.
   * @return false when not sent (closed, or a field out of range: logged by the owner as a bug).
   */
  send(msg: PeerMessage): boolean {
    if (this.state === 'closed') return false;
    let parts: Buffer[];
    try {
      parts = encode(msg);
    } catch (err) {
      if (err instanceof RelayError) {
        this.emit('encodeError', err, msg.type);
        return false;
      }
      throw err;
    }
    let n = 0;
    for (const p of parts) {
      this.stream.write(p);
      n += p.length;
    }
    this.bytesWritten += n;
    if (msg.type === 'chunk') this.chunkBytesSent += msg.data.byteLength;
    else {
      this.controlBytesSent += n;
      if (this.opts.stats) this.opts.stats.controlBytesSent += n;
    }
    this.lastTxMs = this.opts.now();
    return true;
  }

  /**
   * @brief Sends a CHUNK unless this remote's queue is already full (backpressure).
   * @param msg The chunk.
   * @return false when skipped (queue full, or closed).
   */
  sendChunk(msg: Msg<'chunk'>): boolean {
    if (this.queuedBytes > SEND_QUEUE_BYTES) return false;
    return this.send(msg);
  }

  /**
   * @brief Handshake deadline, heartbeat and silence check (the owner's one tick).
   * @param now Current time, ms.
   * @param stalled True when our own event loop stalled: silence is not judged then.
   */
  tick(now: number, stalled: boolean): void {
    if (this.state === 'closed') return;
    if (this.state !== 'open') {
      if (now - this.openedMs > this.opts.helloTimeoutMs) this.close('PEER_TIMEOUT');
      return;
    }
    if (!stalled && this.stuck(now)) return this.close('SLOW_RECEIVER');
    const quiet = now - this.lastTxMs >= this.opts.heartbeatMs;
    if (!this.watched) {
      // The remote watches this link before we do (a SUBSCRIBE we hold until our view names the
      // child; a move our view saw first): we answer, so it does not take our quiet for death.
      if (quiet && now < this.remoteWatchesUntil) this.heartbeat(false);
      return;
    }
    if (!stalled && now - Math.max(this.lastRxMs, this.watchedSinceMs) > this.opts.timeoutMs) return this.close('PEER_TIMEOUT');
    if (quiet) this.heartbeat(true);
  }

  private heartbeat(watching: boolean): void {
    this.send({ type: 'heartbeat', maxSeq: this.opts.maxSeq(), direct: this.opts.direct(), watching });
  }

  /** Watched: heartbeats when quiet, closed when silent. */
  get watched(): boolean {
    return this.isWatched;
  }

  /**
   * Watching starts the silence clock: a link that was quiet while nobody watched it (a
   * member's link to its coordinator, an idle link to a new parent) is not dead for that.
   */
  set watched(on: boolean) {
    if (on && !this.isWatched) this.watchedSinceMs = this.opts.now();
    this.isWatched = on;
  }

  /** Bytes wait for the remote and it took none of them for slowReceiverMs. */
  private stuck(now: number): boolean {
    const queued = this.queuedBytes;
    const taken = this.bytesWritten - queued;
    if (queued === 0 || taken > this.takenAtTick) this.stuckSinceMs = 0;
    else this.stuckSinceMs ||= now;
    this.takenAtTick = taken;
    return this.stuckSinceMs > 0 && now - this.stuckSinceMs > (this.opts.slowReceiverMs ?? SLOW_RECEIVER_MS);
  }

  /**
   * @brief The one teardown path: destroys the stream and emits `close` once.
   * @param code Why (an error code, or CLOSED / LEAVING / DUPLICATE).
   */
  close(code: CloseCode): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeCode = code;
    this.stream.destroy();
    this.emit('close', code);
  }

  /** @brief True once closed (a method, so TypeScript does not narrow it away in loops). */
  isClosed(): boolean {
    return this.state === 'closed';
  }

  private onData(buf: Buffer): void {
    if (this.state === 'closed') return;
    this.lastRxMs = this.opts.now();
    let frames: { type: number; body: Buffer }[];
    try {
      frames = this.decoder.push(buf);
    } catch (err) {
      if (err instanceof RelayError) return this.close(err.code);
      throw err;
    }
    for (const f of frames) {
      if (this.isClosed()) return;
      let msg: PeerMessage;
      try {
        msg = decode(f.type, f.body);
      } catch (err) {
        if (err instanceof RelayError) return this.close(err.code);
        throw err;
      }
      const st = this.opts.stats;
      if (f.type === MsgType.chunk) {
        const n = (msg as Msg<'chunk'>).data.byteLength;
        this.chunkBytesReceived += n;
        if (st) st.chunkBytesReceived += n;
      } else {
        this.controlBytesReceived += f.body.length + 6;
        if (st) st.controlBytesReceived += f.body.length + 6;
      }
      if (this.state !== 'open') this.handshake(msg);
      else if (msg.type === 'hello' || msg.type === 'auth') this.close('BAD_FRAME');
      else {
        if (msg.type === 'heartbeat') {
          this.remoteMaxSeq = Math.max(this.remoteMaxSeq, msg.maxSeq);
          if (msg.watching) this.remoteWatchesUntil = this.lastRxMs + this.opts.timeoutMs;
        }
        this.emit('message', msg);
      }
    }
  }

  /** The handshake: the remote's HELLO (identity, channel), then AUTH with an overlay key. */
  private handshake(msg: PeerMessage): void {
    const key = this.opts.key;
    if (this.state === 'handshake') {
      if (msg.type !== 'hello') return this.close('BAD_FRAME');
      const claimed = this.outbound ? this.opts.dialed : this.address;
      if (msg.id !== claimed) return this.close('IDENTITY_MISMATCH');
      if (msg.channel !== this.opts.hello.channel) return this.close('CHANNEL_MISMATCH');
      if (msg.keyRequired !== (key !== null)) return this.close('AUTH_FAILED');
      this.remote = msg;
      if (!key) return this.opened();
      this.state = 'auth';
      this.send({ type: 'auth', mac: this.mac(key, msg.nonce, this.opts.hello.id, msg.id) });
      return;
    }
    if (msg.type !== 'auth' || !key || !this.remote) return this.close('AUTH_FAILED');
    const expected = this.mac(key, this.opts.hello.nonce, this.remote.id, this.opts.hello.id);
    if (!timingSafeEqual(expected, msg.mac)) return this.close('AUTH_FAILED');
    this.opened();
  }

  private opened(): void {
    this.state = 'open';
    this.emit('open', this.remote);
  }

  /** HMAC-SHA256(key, "relaytv-auth" | nonce | from | to): proves the key, bound to a fresh nonce. */
  private mac(key: Buffer, nonce: Buffer, from: string, to: string): Buffer {
    return createHmac('sha256', key).update('relaytv-auth').update(nonce).update(from).update('|').update(to).digest();
  }
}
