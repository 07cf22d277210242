/**
 * @file memory.ts
 * @brief An in-memory network for the overlay tests: hosts are IPs, connections are stream pairs.
 *
 * How it works: `listen(ip, port)` registers an acceptor; `dial` creates two MemoryConnections
 * wired to each other (what one writes the other reads, on a later turn of the event loop, in
 * order), hands one to the acceptor and resolves with the other. Faults are the network's, as
 * seen from the hosts:
 * - `crash(ip)`: every connection of the host is destroyed at once and its listeners removed
 *   (what the other ends of a SIGKILLed process see);
 * - `silence(ip)`: nothing is delivered to or from the host any more, nothing is closed
 *   (a hung process, a cable cut with no RST);
 * - `partition(a, b)`: the same between two hosts only;
 * - `stick(ip)`: writes towards the host are never taken (a reader that stopped reading):
 *   the writer's queue grows, which is what backpressure must bound.
 * `heal()` undoes silences, partitions and stuck readers. No timers: delivery uses setImmediate.
 */
import { Duplex } from 'node:stream';
import type { Connection, DialOptions, Listener, ListenOptions, Transport } from './transport';

/** A network error with its errno-style code. */
function netError(code: string, what: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code} ${what}`);
  err.code = code;
  return err;
}

/** A write held back, with the callback that completes it. */
interface HeldWrite {
  /** The bytes. */
  chunk: Buffer;
  /** Completes the write. */
  cb: (err?: Error | null) => void;
}

/** One end of an in-memory connection. */
export class MemoryConnection extends Duplex implements Connection {
  /** The other end (set right after construction). */
  peer: MemoryConnection | null = null;
  /** Writes held back while the other end's host is stuck (callbacks withheld). */
  private held: HeldWrite[] = [];
  /** True once our side ended gracefully (the other end reads EOF instead of a reset). */
  private ended = false;

  /**
   * @brief One end of a connection; the network pairs it with the other end.
   * @param net The network this connection belongs to.
   * @param localAddress Our IP.
   * @param localPort Our port.
   * @param remoteAddress The other end's IP.
   * @param remotePort The other end's port.
   */
  constructor(private readonly net: MemoryNetwork, readonly localAddress: string, readonly localPort: number, readonly remoteAddress: string,
    readonly remotePort: number) {
    super({ allowHalfOpen: false }); // as a TCP socket: EOF read ends our side too
  }

  /** @brief No Nagle in memory. @return this. */
  setNoDelay(): this {
    return this;
  }

  /** @brief Nothing to do: the other end pushes into us. */
  override _read(): void {}

  /** @brief Delivers a write to the other end (or drops or holds it, per the network's faults). */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.net.isStuck(this.remoteAddress)) {
      this.held.push({ chunk, cb });
      return;
    }
    this.deliver(chunk);
    cb();
  }

  /** @brief Our end was ended: the other end reads EOF. */
  override _final(cb: (err?: Error | null) => void): void {
    this.ended = true;
    const peer = this.peer;
    setImmediate(() => {
      if (peer && !peer.destroyed && this.net.delivers(this.localAddress, this.remoteAddress)) peer.push(null);
    });
    cb();
  }

  /** @brief Abrupt close: the other end is destroyed too (it sees 'close'). */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.net.forget(this);
    for (const h of this.held) h.cb(netError('ECONNRESET', 'connection destroyed'));
    this.held = [];
    const peer = this.peer;
    // A graceful close (we ended first) reaches the other end as EOF; anything else as a reset,
    // unless the network loses it (a silent host's reset never arrives: the other end has to
    // notice the silence).
    const reaches = (): boolean => this.net.delivers(this.localAddress, this.remoteAddress);
    if (peer && !peer.destroyed && !this.ended && reaches()) setImmediate(() => { if (reaches()) peer.destroy(); });
    cb(err);
  }

  /** @brief Releases held writes once the other end reads again. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) {
      this.deliver(h.chunk);
      h.cb();
    }
  }

  private deliver(chunk: Buffer): void {
    const peer = this.peer;
    if (!this.net.delivers(this.localAddress, this.remoteAddress)) return; // lost on the way
    setImmediate(() => {
      if (peer && !peer.destroyed && this.net.delivers(this.localAddress, this.remoteAddress)) peer.push(chunk);
    });
  }
}

/** The in-memory network: every host of one test. */
export class MemoryNetwork implements Transport {
  private readonly acceptors = new Map<string, (conn: Connection) => void>();
  private readonly conns = new Set<MemoryConnection>();
  private readonly silent = new Set<string>();
  private readonly stuck = new Set<string>();
  private readonly cuts = new Set<string>();
  private nextPort = 40000;

  /** @brief Registers an acceptor on host:port. */
  async listen(opts: ListenOptions, onConnection: (conn: Connection) => void): Promise<Listener> {
    const port = opts.port || this.nextPort++;
    const key = `${opts.host}:${port}`;
    if (this.acceptors.has(key)) throw netError('EADDRINUSE', key);
    let open = 0;
    this.acceptors.set(key, (conn) => {
      if (opts.maxConnections && open >= opts.maxConnections) return void conn.destroy();
      open++;
      conn.once('close', () => open--);
      onConnection(conn);
    });
    return { port, close: async () => void this.acceptors.delete(key) };
  }

  /** @brief Opens a connection to a registered acceptor (ECONNREFUSED when none). */
  dial(opts: DialOptions): Promise<Connection> {
    const local = opts.localAddress ?? '127.0.0.1';
    return new Promise<Connection>((resolve, reject) => {
      setImmediate(() => {
        if (opts.signal?.aborted) return reject(netError('ETIMEDOUT', `${opts.host}:${opts.port}`));
        if (!this.delivers(local, opts.host)) {
          // Packets to a silent or partitioned host vanish: the dial times out.
          const timer = setTimeout(() => reject(netError('ETIMEDOUT', `${opts.host}:${opts.port}`)), opts.timeoutMs);
          opts.signal?.addEventListener('abort', () => { clearTimeout(timer); reject(netError('ETIMEDOUT', `${opts.host}:${opts.port}`)); }, { once: true });
          return;
        }
        const accept = this.acceptors.get(`${opts.host}:${opts.port}`);
        if (!accept) return reject(netError('ECONNREFUSED', `${opts.host}:${opts.port}`));
        const ours = new MemoryConnection(this, local, this.nextPort++, opts.host, opts.port);
        const theirs = new MemoryConnection(this, opts.host, opts.port, local, ours.localPort);
        ours.peer = theirs;
        theirs.peer = ours;
        this.conns.add(ours);
        this.conns.add(theirs);
        accept(theirs);
        resolve(ours);
      });
    });
  }

  /**
   * @brief A host (or one process of it) crashes: its connections are destroyed and its listeners
   * removed, except those on `keep` (a port another process of the host owns, as a holder's 9091).
   */
  crash(ip: string, keep?: number): void {
    for (const key of [...this.acceptors.keys()]) if (key.startsWith(`${ip}:`) && key !== `${ip}:${keep}`) this.acceptors.delete(key);
    for (const c of [...this.conns]) if (c.localAddress === ip && c.localPort !== keep) c.destroy();
  }

  /** @brief A host goes silent (nothing delivered to or from it; nothing closed). */
  silence(ip: string): void {
    this.silent.add(ip);
  }

  /** @brief Two hosts stop hearing each other (both ways), without any close. */
  partition(a: string, b: string): void {
    this.cuts.add(`${a}|${b}`);
    this.cuts.add(`${b}|${a}`);
  }

  /** @brief A host stops reading: writes towards it are held, the writers' queues grow. */
  stick(ip: string): void {
    this.stuck.add(ip);
  }

  /** @brief Undoes every silence, partition and stuck reader. */
  heal(): void {
    this.silent.clear();
    this.cuts.clear();
    this.stuck.clear();
    for (const c of this.conns) c.release();
  }

  /** @brief Whether bytes from `from` reach `to` now. */
  delivers(from: string, to: string): boolean {
    return !this.silent.has(from) && !this.silent.has(to) && !this.cuts.has(`${from}|${to}`);
  }

  /** @brief Whether `ip` has stopped reading. */
  isStuck(ip: string): boolean {
    return this.stuck.has(ip);
  }

  /** @brief Drops a destroyed connection from the registry. */
  forget(c: MemoryConnection): void {
    this.conns.delete(c);
  }

  /** @brief Open connections (tests check that nothing leaks). */
  get openConnections(): number {
    return this.conns.size;
  }
}
