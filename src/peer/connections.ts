/**
 * @file connections.ts
 * @brief The peer's P2P connections: listen, dial, handshake deadlines, and the one session per peer.
 *
 * How it works: inbound connections come from the transport's listener, outbound ones from
 * `dial(id)` (concurrent dials to one peer share one attempt). Every connection becomes a
 * Session; once its handshake is done it is registered under the remote's id (its IP). When two
 * peers dial each other at once, both keep the connection dialed by the lower id and close the
 * other (DUPLICATE), so they agree without a message. A remote IP may hold at most
 * MAX_CONNECTIONS_PER_IP connections at once (beyond: CONNECTION_LIMIT, closed before a byte is
 * read); the listener refuses beyond MAX_P2P_CONNECTIONS. `tick` runs every session's
 * deadline, heartbeat and silence check.
 */
import { randomBytes } from 'node:crypto';
import type { Transport, Connection, Listener } from '../transport/transport';
import { Session, CloseCode } from './session';
import type { Msg, PeerMessage } from '../protocol/peer';
import type { Logger } from '../log';
import type { Ledger } from './stats';
import { canonicalIp } from '../util/ip';
import { NONCE_BYTES } from '../protocol/peer';
import { MAX_CONNECTIONS_PER_IP, MAX_P2P_CONNECTIONS } from '../constants';

/** This peer as its HELLO describes it. */
export interface SelfInfo {
  /** Our id: our IP. */
  id: string;
  /** Our P2P port. */
  p2pPort: number;
  /** Our /status port. */
  httpPort: number;
  /** Our slots. */
  slots: number;
  /** Our channel. */
  channel: number;
}

/** Timings of the connections (defaults in src/constants.ts). */
export interface ConnectionTimings {
  /** Heartbeat interval on a quiet watched session, ms. */
  heartbeatMs: number;
  /** Silence that kills a watched session, ms. */
  heartbeatTimeoutMs: number;
  /** Handshake deadline, ms. */
  helloTimeoutMs: number;
  /** Dial deadline, ms. */
  dialTimeoutMs: number;
  /** Bytes queued that the remote takes none of for this long: closed (SLOW_RECEIVER), ms. */
  slowReceiverMs: number;
}

/** Options of the connections. */
export interface ConnectionsOptions {
  /** Who we are. */
  self: SelfInfo;
  /** Listening and dialing. */
  transport: Transport;
  /** The overlay key, or null. */
  key: Buffer | null;
  /** Clock, ms. */
  now: () => number;
  /** Timings. */
  timings: ConnectionTimings;
  /** Logger. */
  log: Logger;
  /** The ledger (close reasons). */
  stats: Ledger;
  /** Chunk bodies go to shared memory. */
  alloc: (size: number, type: number) => Buffer;
  /** Our newest sequence (heartbeats). */
  maxSeq: () => number;
  /** Whether we hold a server slot (HELLO, heartbeats). */
  direct: () => boolean;
  /**
   * A session finished its handshake and is registered, alone or in place of a duplicate: what
   * was sent on a link that closed as a duplicate may be lost, and the parts may send it again.
   */
  onOpen: (s: Session) => void;
  /** A message arrived on an open session. */
  onMessage: (s: Session, m: PeerMessage) => void;
  /** A registered session closed. */
  onClose: (s: Session, code: CloseCode) => void;
  /** Whether we have a reason to keep an idle link to `id` (a member we deal with). */
  keep: (id: string) => boolean;
}

/** An open, unwatched link nobody has a reason to keep is closed after this much quiet, ms. */
export const IDLE_SESSION_MS = 30_000;

/** The registry of sessions. */
export class Connections {
  private listener: Listener | null = null;
  private readonly registry = new Map<string, Session>();
  private readonly all = new Set<Session>();
  /** A registered link closed while a twin was opening (see the close handler), by peer id. */
  private readonly pendingLoss = new Map<string, { s: Session; code: CloseCode }>();
  private readonly perIp = new Map<string, number>();
  private readonly dialing = new Map<string, Promise<Session>>();
  private readonly watched = new Map<string, Set<string>>();
  private closed = false;

  /** @param opts Identity, transport, timings, handlers. */
  constructor(private readonly opts: ConnectionsOptions) {}

  /** @brief Starts listening on our IP and P2P port. */
  async listen(): Promise<void> {
    const { self, transport } = this.opts;
    this.listener = await transport.listen({ host: self.id, port: self.p2pPort, maxConnections: MAX_P2P_CONNECTIONS }, (c) => this.adopt(c, false));
  }

  /** @brief The open session to `id`, if any. */
  get(id: string): Session | undefined {
    const s = this.registry.get(id);
    return s && s.state === 'open' ? s : undefined;
  }

  /** @brief Every open registered session. */
  sessions(): Session[] {
    return [...this.registry.values()].filter((s) => s.state === 'open');
  }

  /**
   * @brief An open session to peer `id` at `port`, dialing it when there is none.
   * @return The session; rejects with the network error or the handshake's close code.
   */
  dial(id: string, port: number): Promise<Session> {
    const open = this.get(id);
    if (open) return Promise.resolve(open);
    const pending = this.dialing.get(id);
    if (pending) return pending;
    const p = this.dialOnce(id, port);
    this.dialing.set(id, p);
    const clear = (): void => void this.dialing.delete(id);
    p.then(clear, clear);
    return p;
  }

  /** @brief Runs every session's deadline, heartbeat and silence check; closes idle strangers. */
  tick(now: number, stalled: boolean): void {
    for (const s of [...this.all]) {
      s.tick(now, stalled);
      if (s.state === 'open' && !s.watched && s.idleMs(now) > IDLE_SESSION_MS && !this.opts.keep(s.id)) s.close('IDLE');
    }
  }

  /** @brief Closes every session and the listener. */
  async destroy(code: CloseCode = 'LEAVING'): Promise<void> {
    this.closed = true;
    for (const s of [...this.all]) s.close(code);
    await this.listener?.close();
  }

  private async dialOnce(id: string, port: number): Promise<Session> {
    const { self, transport, timings } = this.opts;
    const conn = await transport.dial({ host: id, port, localAddress: self.id, timeoutMs: timings.dialTimeoutMs });
    const s = this.adopt(conn, true, id);
    if (!s) throw Object.assign(new Error('CONNECTION_LIMIT'), { code: 'CONNECTION_LIMIT' });
    return new Promise<Session>((resolve, reject) => {
      const onOpen = (): void => { s.off('close', onClose); resolve(this.get(id) ?? s); };
      const onClose = (code: string): void => {
        s.off('open', onOpen);
        const kept = this.get(id);
        if (code === 'DUPLICATE' && kept) resolve(kept); // the other direction's connection won
        else reject(Object.assign(new Error(code), { code }));
      };
      s.once('open', onOpen);
      s.once('close', onClose);
    });
  }

  /** Wraps a connection into a session (or refuses it over the per-IP cap). */
  private adopt(conn: Connection, outbound: boolean, dialed?: string): Session | null {
    const ip = canonicalIp(conn.remoteAddress ?? '');
    if (this.closed || (this.perIp.get(ip) ?? 0) >= MAX_CONNECTIONS_PER_IP) {
      if (!this.closed) this.opts.log.warn({ code: 'CONNECTION_LIMIT', from: ip }, 'too many connections from one address: closed');
      conn.destroy();
      return null;
    }
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    conn.setNoDelay(true);
    const { self, timings, now } = this.opts;
    const hello: Msg<'hello'> = {
      type: 'hello', id: self.id, p2pPort: self.p2pPort, httpPort: self.httpPort, slots: self.slots,
      channel: self.channel, direct: this.opts.direct(), keyRequired: this.opts.key !== null, nonce: randomBytes(NONCE_BYTES),
    };
    const s = new Session(conn, ip, {
      hello, outbound, dialed, key: this.opts.key, alloc: this.opts.alloc, now,
      heartbeatMs: timings.heartbeatMs, timeoutMs: timings.heartbeatTimeoutMs, helloTimeoutMs: timings.helloTimeoutMs, slowReceiverMs: timings.slowReceiverMs,
      maxSeq: this.opts.maxSeq, direct: this.opts.direct, stats: this.opts.stats,
    });
    this.all.add(s);
    s.on('open', () => this.register(s));
    s.on('message', (m: PeerMessage) => this.opts.onMessage(s, m));
    s.on('encodeError', (err: Error, type: string) => this.opts.log.error({ code: 'BAD_FRAME', type, err: err.message }, 'a message of ours does not encode: not sent'));
    s.once('close', (code: CloseCode) => {
      this.all.delete(s);
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.perIp.set(ip, left); else this.perIp.delete(ip);
      this.opts.stats.closed(code);
      if (!s.remote && code !== 'CLOSED' && code !== 'LEAVING') {
        this.opts.log.warn({ code, from: ip }, 'connection closed before its handshake completed');
      }
      if (this.registry.get(s.id) === s) {
        this.registry.delete(s.id);
        // Both ends dialed at once and the remote closed this one as its DUPLICATE before our
        // twin (the link it keeps) finished its handshake here: the twin takes over; the loss is
        // told only if the twin fails too.
        if (code === 'CLOSED' && this.twinOf(s)) {
          this.pendingLoss.set(s.id, { s, code });
          this.opts.log.debug({ peer: s.id }, 'a link closed while its twin opens: the twin takes over');
          return;
        }
        this.lost(s, code);
      } else {
        const loss = this.pendingLoss.get(s.address);
        if (loss && !this.registry.has(s.address) && !this.twinOf(s)) {
          this.pendingLoss.delete(s.address);
          this.lost(loss.s, loss.code);
        }
      }
    });
    return s;
  }

  /**
   * @brief Watches (or stops watching, for one reason) the link to `id`: heartbeats when quiet,
   * dead when silent. It is watched while any reason holds (a parent, a child, a successor); the
   * flag belongs to the peer, not to one connection: a replacing session inherits it.
   */
  watch(id: string, reason: string, on: boolean): void {
    const why = this.watched.get(id) ?? new Set<string>();
    if (on) why.add(reason); else why.delete(reason);
    if (why.size) this.watched.set(id, why); else this.watched.delete(id);
    const s = this.registry.get(id);
    if (s) s.watched = why.size > 0;
  }

  /** A neighbour lost (silence, a reset, its crash): the first sign of most faults. */
  private lost(s: Session, code: CloseCode): void {
    this.opts.log.info({ peer: s.id, code, watched: s.watched }, 'session closed');
    this.opts.onClose(s, code);
  }

  /** Another session with the same peer, not closed (being dialed or in its handshake). */
  private twinOf(s: Session): Session | undefined {
    const id = s.id || s.address;
    for (const x of this.all) if (x !== s && !x.isClosed() && (x.id || x.address) === id) return x;
    return undefined;
  }

  /**
   * Registers an open session. With two open sessions to one peer, both ends keep the one
   * dialed by the lower id; the other closes as DUPLICATE without telling the parts of a loss
   * (they know peers by id, not by connection). The parts hear of the link that stays when it
   * replaces the registered one (onOpen): messages in flight on the closing one are lost.
   */
  private register(s: Session): void {
    const id = s.id;
    const other = this.registry.get(id);
    if (other && other !== s && other.state === 'open') {
      const dialer = (x: Session): string => (x.outbound ? this.opts.self.id : id);
      if (dialer(other) < dialer(s)) return s.close('DUPLICATE');
      this.registry.set(id, s);
      s.watched = this.watched.has(id);
      other.close('DUPLICATE');
      this.opts.onOpen(s);
      return;
    }
    this.registry.set(id, s);
    this.pendingLoss.delete(id);
    s.watched = this.watched.has(id);
    this.opts.onOpen(s);
  }
}
