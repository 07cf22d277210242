/**
 * @file session.ts
 * @brief One P2P connection's protocol state: framing, HELLO, liveness, byte counters.
 *
 * A session never dials or accepts (STYLE rule 3): whoever owns the socket passes a Duplex in.
 * States: `handshake` (waiting for the remote HELLO) -> `open` -> `closed` (one teardown path,
 * `close(reason)`). Liveness: every received byte refreshes `lastRxMs`; the peer's single
 * heartbeat timer calls `tick(now)`, which sends a HEARTBEAT when the link was quiet and
 * closes the session after HEARTBEAT_TIMEOUT_MS of silence (a hung or cut peer).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { decode, encode, FrameDecoder, MsgType, PeerMessage } from '../protocol/peer';
import { FAULT_PARTITION, FAULT_RELAY_DELAY_MS, HEARTBEAT_MS, HEARTBEAT_TIMEOUT_MS } from '../constants';
import { RelayError } from '../errors';

/** What the remote said about itself in HELLO. */
export type Hello = Extract<PeerMessage, { type: 'hello' }>;

/** Options of a session. */
export interface SessionOptions {
  /** Our HELLO, sent at once. */
  hello: Hello;
  /** Allocates frame bodies (CHUNK bodies in shared memory). */
  alloc?: (size: number, type: number) => Buffer;
  /** Heartbeat payload provider. */
  heartbeat: () => Extract<PeerMessage, { type: 'heartbeat' }>;
  /** Send a heartbeat after this much quiet, ms. */
  heartbeatMs?: number;
  /** Declare the remote dead after this much silence, ms. */
  timeoutMs?: number;
  /** Clock (ms). */
  now?: () => number;
  /** True when we dialed. */
  outbound: boolean;
}

/**
 * A P2P session over a Duplex. Events: `open` (Hello), `message` (PeerMessage),
 * `close` (reason string).
 */
export class Session extends EventEmitter {
  /** The remote's HELLO once received. */
  remote: Hello | null = null;
  /** Lifecycle state. */
  state: 'handshake' | 'open' | 'closed' = 'handshake';
  /** Why the session closed. */
  closeReason = '';
  /** Newest sequence the remote holds, from its HELLO and heartbeats (-1 when unknown). */
  remoteMaxSeq = -1;
  /** Chunk data bytes sent on this session (CHUNK payloads only). */
  chunkBytesSent = 0;
  /** Chunk data bytes received on this session (CHUNK payloads only). */
  chunkBytesReceived = 0;
  /** True when we dialed. */
  readonly outbound: boolean;
  private readonly delayed = new WeakSet<object>();
  private lastRxMs: number;
  private lastTxMs: number;
  private readonly decoder: FrameDecoder;
  private readonly now: () => number;

  /**
   * @param stream The connection (a socket, or one end of an in-memory pair in tests).
   * @param opts Session options.
   */
  constructor(private readonly stream: Duplex, private readonly opts: SessionOptions) {
    super();
    this.now = opts.now ?? Date.now;
    this.outbound = opts.outbound;
    this.lastRxMs = this.lastTxMs = this.now();
    this.decoder = new FrameDecoder(opts.alloc);
    stream.on('data', (buf: Buffer) => this.onData(buf));
    stream.on('error', (err: Error) => this.close(`socket error: ${err.message}`));
    stream.on('close', () => this.close('connection closed'));
    stream.on('end', () => this.close('connection ended'));
    this.send(opts.hello);
  }

  /** @brief "IP:p2pPort" of the remote (known after HELLO). */
  get addr(): string {
    return this.remote ? `${this.remote.id}:${this.remote.p2pPort}` : '?';
  }

  /** @brief Remote peer id (its IP), or '' before HELLO. */
  get id(): string {
    return this.remote?.id ?? '';
  }

  /**
   * @brief Sends one message (dropped silently once closed).
   * @param msg The message.
   * @return false when the socket's buffer is above its high-water mark.
   */
  send(msg: PeerMessage): boolean {
    if (this.state === 'closed' || this.partitioned()) return false;
    if (msg.type === 'chunk' && FAULT_RELAY_DELAY_MS > 0 && !this.delayed.has(msg)) {
      // Fault injection (tests only): a slow uplink, every chunk leaves late.
      this.delayed.add(msg);
      setTimeout(() => this.send(msg), FAULT_RELAY_DELAY_MS);
      return true;
    }
    const parts = encode(msg);
    let ok = true;
    for (const p of parts) ok = this.stream.write(p);
    if (msg.type === 'chunk') this.chunkBytesSent += msg.data.byteLength;
    this.lastTxMs = this.now();
    return ok;
  }

  /**
   * @brief Sends a frame already encoded (one VIEW encoded once for every member).
   * @param parts The frame from `encode()`.
   */
  sendEncoded(parts: Buffer[]): void {
    if (this.state === 'closed' || this.partitioned()) return;
    for (const p of parts) this.stream.write(p);
    this.lastTxMs = this.now();
  }

  /** @brief Bytes queued in the socket and not yet sent (slow-receiver signal). */
  get queuedBytes(): number {
    return (this.stream as Duplex & { writableLength?: number }).writableLength ?? 0;
  }

  /**
   * @brief Heartbeat and silence check, called by the owner's single timer.
   * @param now Current time, ms.
   * @param stalled True when our own event loop was stalled: silence is not judged then.
   */
  tick(now: number, stalled = false): void {
    if (this.state === 'closed') return;
    // The handshake has its own deadline (the dialer's and the acceptor's HELLO timers).
    if (!stalled && this.state === 'open' && now - this.lastRxMs > (this.opts.timeoutMs ?? HEARTBEAT_TIMEOUT_MS)) {
      this.close('PEER_TIMEOUT: silent past the heartbeat timeout');
      return;
    }
    if (now - this.lastTxMs >= (this.opts.heartbeatMs ?? HEARTBEAT_MS)) this.send(this.opts.heartbeat());
  }

  /**
   * @brief The one teardown path: destroys the stream and emits `close` once.
   * @param reason Why (logged by the owner).
   */
  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    this.stream.destroy();
    this.emit('close', reason);
  }

  /** @brief True once closed (a method, so TypeScript does not narrow it away in loops). */
  isClosed(): boolean {
    return this.state === 'closed';
  }

  /** @brief Fault injection: a partitioned remote is silent both ways (tests only). */
  private partitioned(): boolean {
    return FAULT_PARTITION.size > 0 && this.remote !== null && FAULT_PARTITION.has(this.remote.id);
  }

  private onData(buf: Buffer): void {
    if (this.state === 'closed' || this.partitioned()) return;
    this.lastRxMs = this.now();
    let frames;
    try {
      frames = this.decoder.push(buf);
    } catch (err) {
      if (err instanceof RelayError) return this.close(`protocol violation: ${err.message}`);
      throw err;
    }
    for (const f of frames) {
      if (this.isClosed()) return;
      let msg: PeerMessage;
      try {
        msg = decode(f.type, f.body);
      } catch (err) {
        if (err instanceof RelayError) return this.close(`protocol violation: ${err.message}`);
        throw err;
      }
      if (this.state === 'handshake') {
        if (msg.type !== 'hello') return this.close(`protocol violation: expected HELLO first, got ${msg.type}`);
        this.remote = msg;
        this.remoteMaxSeq = msg.maxSeq;
        this.state = 'open';
        this.emit('open', msg);
        continue;
      }
      if (msg.type === 'hello') return this.close('protocol violation: second HELLO');
      if (msg.type === 'chunk') this.chunkBytesReceived += msg.data.byteLength;
      if (msg.type === 'heartbeat') this.remoteMaxSeq = Math.max(this.remoteMaxSeq, msg.maxSeq);
      this.emit('message', msg);
    }
  }
}

/** Frame types whose body is allocated in shared memory (only chunks are large). */
export const SHARED_BODY_TYPES = new Set<number>([MsgType.CHUNK]);
