/**
 * @file peer.ts
 * @brief A relaytv peer: server link, overlay sessions, coordinator role, relay and repair.
 *
 * How it works (the long file of the project; it wires the smaller modules together):
 * 1. Listen on IP:9091 (only the server may push), on IP:p2pPort (overlay) and IP:httpPort.
 * 2. Ask the server to join (`10C`, restriction 1). `10` and nobody else listed: we are the
 *    founder, i.e. coordinator and source. Otherwise dial the IPs `11C` lists (P2P port by
 *    convention) and send JOIN; non-coordinators REDIRECT to the coordinator, which answers
 *    with a VIEW (members + placement).
 * 3. Every VIEW is applied by `Upstream`: per stripe, subscribe to the parent the placement
 *    names, from the next sequence we miss. The `Relay` serves our own children.
 * 4. Failures: a closed or silent session is dead at once. Children tell the coordinator
 *    (SUSPECT); the coordinator sees its own link die, removes the member and publishes a new
 *    VIEW; orphans re-subscribe from their new parent's ring buffer, and any hole left is
 *    fetched (FETCH) by the repair scan. If the coordinator dies, the next member in view order
 *    (direct members first) takes the role over from the last view, and asks the server for the
 *    slot until it is freed; its sequence numbers continue from the highest one reported.
 * 5. Leave: `12C`, BYE to the coordinator, keep serving and keep 9091 open one period, close.
 */
import net from 'node:net';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ServerLink } from './serverLink';
import { Session } from './session';
import { ChunkStore } from './store';
import { Relay } from './relay';
import { Upstream } from './upstream';
import { Membership, membershipFromView, ViewMessage, MemberInfo } from './membership';
import { createChunkPool, sharedBuffer, ChunkPool } from './pool';
import { encode, MsgType, PeerMessage } from '../protocol/peer';
import * as C from '../constants';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { PeerStatus } from './status';
import { listPending } from '../player/folder';
import { loadState, saveState, SavedState } from './state';

/** Options of a peer. */
export interface PeerOptions {
  /** The peer's own IP: it listens there and makes its control connections from it. */
  ip: string;
  /** Host of the streaming server's control port. */
  serverHost: string;
  /** The streaming server's control port (6060). */
  serverPort: number;
  /** Channel to watch (0-9). */
  channel: number;
  /** Downstream slots: how many other peers may connect to this one (restriction 3). */
  slots: number;
  /** Chunk folder. */
  dir: string;
  /** Overlay port (the same on every peer by convention; default P2P_PORT). */
  p2pPort?: number;
  /** /status and /metrics port (default HTTP_PORT). */
  httpPort?: number;
  /** Port the server pushes to (9091 in the course). */
  dataPort?: number;
  /** Stripes K of the forest when this peer founds the overlay. */
  stripes?: number;
  /** Initial guess of the chunk period, ms (then learnt from the stream). */
  periodMs?: number;
  /** Logger. */
  log: Logger;
  /** Metrics (optional: tests run without). */
  metrics?: Metrics;
  /** Player figures, filled by the player child (if any). */
  player?: { played: number; stalls: number };
  /** A chunk pool shared with other peers of this process (`relaytv swarm`); owned otherwise. */
  pool?: ChunkPool;
}

/** Events: `view` (ViewMessage), `stored` (seq). */
export class Peer extends EventEmitter {
  /** Verified chunks: ring buffer and disk. */
  readonly store: ChunkStore;
  /** Our children and their cursors. */
  readonly relay: Relay;
  /** Our parents, one per stripe, and the hole repair. */
  readonly upstream: Upstream;
  /** The course's protocol: data port and control requests. */
  readonly link: ServerLink;
  /** Coordinator state, when this peer holds the role. */
  membership: Membership | null = null;
  /** The last view received or published. */
  view: ViewMessage | null = null;
  /** True while the server pushes to this peer (it holds a direct slot). */
  direct = false;
  /** Lifecycle state (see the report's state diagram). */
  state: 'starting' | 'joining' | 'member' | 'leaving' | 'closed' = 'starting';
  /** Chunk bytes sent to children and to fetchers. */
  bytesSent = 0;
  /** Chunk bytes received from the server and from peers. */
  bytesReceived = 0;
  /** Stripes that got their first chunk from a new parent after a failure. */
  recoveries = 0;
  /** Failure -> first chunk from the new parent, last one, ms. */
  lastRecoveryMs: number | null = null;
  /** Failure -> new parent's SUBSCRIBED, last one, ms. */
  lastReattachMs: number | null = null;
  /** Failure -> new parent's SUBSCRIBED, worst one, ms. */
  maxReattachMs = 0;
  /** Worst failure -> first chunk from the new parent, ms. */
  maxRecoveryMs = 0;
  /** Our overlay port. */
  readonly p2pPort: number;
  /** Our /status and /metrics port. */
  readonly httpPort: number;
  /** Stripes used when we found the overlay. */
  readonly stripes: number;
  /** Worker pool for chunk hashing and writing. */
  readonly pool: ChunkPool;
  /** The session used to talk to each member (one per remote id). */
  private readonly sessions = new Map<string, Session>();
  /** Every live session, inbound and outbound (all are ticked for heartbeats). */
  private readonly allSessions = new Set<Session>();
  private readonly dialing = new Map<string, Promise<Session>>();
  private p2pServer: net.Server | null = null;
  private timer: NodeJS.Timeout | null = null;
  private coordinatorId = '';
  private readonly dead = new Set<string>();
  /** JOINs received while our own coordinator was failing over (answered once it is known). */
  private readonly pendingJoins = new Set<Session>();
  private lastPush: { seq: number; ms: number } | null = null;
  private periodEstMs: number;
  private lastRebalanceMs = 0;
  private slotAsking = false;
  private publishTimer: NodeJS.Timeout | null = null;
  private lastPublishMs = 0;
  private lastStateSaveMs = 0;
  private stateDirty = false;
  private lastTickMs = Date.now();
  private readonly periodSamples: number[] = [];
  /** What a previous run left in the chunk folder (restart after a crash). */
  private previous: SavedState = { members: [], lastSeq: -1, lastMs: 0 };
  /** Since when a member holds the server slot while we, the coordinator, do not. */
  private slotHeldElsewhereSince = 0;
  /** Time of the last server push (the source's watchdog), ms. */
  private lastServerPushMs = 0;
  private graceUntil = 0;
  private rates = { t: Date.now(), sent: 0, recv: 0, rateSent: 0, rateRecv: 0 };
  private serverBytes = 0;
  /** Last server pushes seen while not the source (a direct member keeps them for takeover). */
  private recentPushes: { data: Buffer; ms: number }[] = [];

  /** The options the peer was built with. */
  readonly opts: PeerOptions;

  /**
   * @brief Builds a peer; nothing is opened before start().
   * @param opts Addresses, channel, slots, folder, logger, metrics.
   */
  constructor(opts: PeerOptions) {
    super();
    this.opts = opts;
    this.p2pPort = opts.p2pPort ?? C.P2P_PORT;
    this.httpPort = opts.httpPort ?? C.HTTP_PORT;
    this.stripes = opts.stripes ?? C.DEFAULT_STRIPES;
    this.periodEstMs = opts.periodMs ?? C.DEFAULT_PERIOD_S * 1000;
    this.pool = opts.pool ?? createChunkPool();
    this.store = new ChunkStore({ dir: opts.dir, pool: this.pool });
    this.relay = new Relay({
      store: this.store, slots: () => this.opts.slots, stripes: () => this.view?.stripes ?? this.stripes,
      onSent: (child, n) => {
        this.bytesSent += n;
        this.opts.metrics?.sentBytes.inc({ peer: child }, n); // label: neighbour IP
      },
    });
    this.upstream = new Upstream({
      selfId: opts.ip, store: this.store, log: opts.log,
      sessionTo: (id) => this.sessionTo(id),
      coordinator: () => this.sessions.get(this.coordinatorId) ?? null,
      members: () => this.view?.members.map((m) => m.id).filter((id) => id !== opts.ip && !this.dead.has(id)) ?? [],
      remoteMaxSeq: (id) => this.sessions.get(id)?.remoteMaxSeq ?? -1,
    });
    this.link = new ServerLink({
      ip: opts.ip, dataPort: opts.dataPort ?? C.DATA_PORT, serverHost: opts.serverHost,
      serverPort: opts.serverPort, channel: opts.channel, log: opts.log,
    });
    this.link.on('chunk', (data: Buffer, ms: number) => this.onServerChunk(data, ms));
    this.store.on('stored', (chunk) => {
      this.relay.onStored(chunk);
      // The period: median of the source's push intervals of consecutive chunks (robust to
      // the odd late push, which an average is not).
      const prev = this.store.get(chunk.seq - 1);
      const dt = prev ? chunk.originMs - prev.originMs : 0;
      if (dt > 0 && dt < 10_000) {
        this.periodSamples.push(dt);
        if (this.periodSamples.length > 15) this.periodSamples.shift();
        this.periodEstMs = [...this.periodSamples].sort((a, b) => a - b)[this.periodSamples.length >> 1];
      }
      this.opts.metrics?.chunksReceived.inc();
      this.emit('stored', chunk.seq);
    });
    this.store.on('corrupt', (seq: number, from: string) => {
      this.opts.log.warn({ code: 'CHUNK_HASH_MISMATCH', seq, from }, 'chunk failed its hash: dropped, will fetch again');
      this.opts.metrics?.chunksCorrupt.inc();
    });
    this.store.on('duplicate', () => this.opts.metrics?.chunksDuplicated.inc());
    this.store.on('diskError', (msg: string) =>
      this.opts.log.error({ code: 'DIR_UNWRITABLE', dir: opts.dir, err: msg }, 'cannot write chunk; still relaying from memory'));
    this.upstream.on('recovered', (ms: number) => {
      this.recoveries++;
      this.lastRecoveryMs = ms;
      this.maxRecoveryMs = Math.max(this.maxRecoveryMs, ms);
      this.opts.metrics?.recoveries.inc();
      this.opts.metrics?.recoverySeconds.observe(ms / 1000);
    });
    this.upstream.on('lost', () => this.opts.metrics?.chunksLost.inc());
    this.upstream.on('reattached', (ms: number) => {
      this.lastReattachMs = ms;
      this.maxReattachMs = Math.max(this.maxReattachMs, ms);
      this.opts.log.info({ ms }, 'stripe re-attached to a new parent');
    });
  }

  /** @brief Opens every listener, then joins the channel. */
  async start(): Promise<void> {
    await this.store.init();
    this.previous = await loadState(this.opts.dir, this.opts.ip);
    if (this.previous.lastSeq >= 0) this.opts.log.info({ lastSeq: this.previous.lastSeq, members: this.previous.members.length }, 'previous run found in the chunk folder');
    await this.link.listen();
    this.p2pServer = net.createServer((sock) => this.accept(sock));
    this.p2pServer.maxConnections = C.MAX_P2P_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      this.p2pServer!.once('error', reject);
      this.p2pServer!.listen(this.p2pPort, this.opts.ip, () => resolve());
    });
    this.p2pServer.on('error', (err) => this.opts.log.error({ err: err.message }, 'p2p listener error'));
    this.timer = setInterval(() => this.tick(), C.TICK_MS);
    this.state = 'joining';
    void this.joinLoop();
  }

  /** @brief True when this peer holds the coordinator (and source) role. */
  get isCoordinator(): boolean {
    return this.membership !== null;
  }

  private async joinLoop(): Promise<void> {
    while (this.state === 'joining') {
      try {
        const answer = await this.link.join();
        this.direct = answer === 'ok';
        const listed = (await this.link.list()).filter((ip) => ip !== this.opts.ip);
        this.opts.log.info({ answer, listed }, 'server answered the join');
        // A restarted peer first looks for the overlay it was in (its last view, saved in
        // the chunk folder): founding a second one beside it would split the channel.
        const recent = Date.now() - this.previous.lastMs < C.STATE_MAX_AGE_MS;
        const before = recent ? this.previous.members.filter((ip) => !listed.includes(ip)).slice(0, 4) : [];
        if (await this.joinVia([...listed, ...before])) return;
        if (this.direct) return this.becomeCoordinator(null);
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'join failed; retrying');
      }
      await sleep(this.periodEstMs / 2);
    }
  }

  /** Dials the listed peers until one leads us to the coordinator. */
  private async joinVia(ips: string[]): Promise<boolean> {
    for (const ip of ips) {
      let target = ip;
      for (let hop = 0; hop < 3 && this.state === 'joining'; hop++) {
        try {
          const s = await this.sessionTo(target);
          const reply = await this.awaitReply(s, ['view', 'redirect'], () => s.send({ type: 'join' }));
          if (reply.type === 'view') {
            this.coordinatorId = reply.coordinator;
            this.state = 'member';
            this.applyView(reply);
            for (const p of this.pendingJoins) if (p.state === 'open') p.send({ type: 'redirect', ip: s.id, port: s.remote!.p2pPort });
            this.pendingJoins.clear();
            return true;
          }
          if (reply.type === 'redirect') target = reply.ip;
        } catch (err) {
          this.opts.log.debug({ ip: target, err: (err as Error).message }, 'could not join through this peer');
          break;
        }
      }
    }
    return false;
  }

  private awaitReply(s: Session, types: string[], send: () => void): Promise<PeerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('no reply')), C.CONTROL_TIMEOUT_MS);
      const onMsg = (m: PeerMessage) => { if (types.includes(m.type)) done(null, m); };
      const onClose = () => done(new Error('closed'));
      const done = (err: Error | null, m?: PeerMessage) => {
        clearTimeout(timer);
        s.off('message', onMsg);
        s.off('close', onClose);
        if (err) reject(err); else resolve(m!);
      };
      s.on('message', onMsg);
      s.on('close', onClose);
      send();
    });
  }

  /** Takes the coordinator role: founder (view null) or successor of a failed one. */
  private becomeCoordinator(from: ViewMessage | null): void {
    const self: MemberInfo = {
      id: this.opts.ip, p2pPort: this.p2pPort, httpPort: this.httpPort, slots: this.opts.slots,
      home: -1, direct: this.direct, sent: this.bytesSent, maxSeq: this.store.maxSeq, sentBase: 0,
    };
    this.membership = from
      ? membershipFromView(from, this.opts.ip, this.dead)
      : new Membership({ self, stripes: this.stripes, periodMs: this.periodEstMs });
    this.membership.self.maxSeq = this.store.maxSeq;
    this.coordinatorId = this.opts.ip;
    this.upstream.reset();
    this.state = 'member';
    this.graceUntil = Date.now() + C.COORDINATOR_GRACE_MS;
    this.opts.log.info({ epoch: this.membership.epoch, takeover: from !== null }, 'coordinator role taken');
    this.publishNow();
    for (const s of this.pendingJoins) if (s.state === 'open') this.onJoin(s);
    this.pendingJoins.clear();
    if (this.direct) this.adoptRecentPushes();
    else void this.askForSlot();
  }

  /** A coordinator without the server slot asks for it until the server frees it. */
  private async askForSlot(): Promise<void> {
    if (this.slotAsking) return;
    this.slotAsking = true;
    while (this.isCoordinator && !this.direct && this.state === 'member') {
      try {
        this.direct = (await this.link.join()) === 'ok';
        if (this.direct) this.opts.log.info('server slot taken over');
      } catch (err) {
        this.opts.log.debug({ err: (err as Error).message }, 'slot request failed');
      }
      if (!this.direct) await sleep(Math.min(C.SLOT_RETRY_MS, this.periodEstMs / 4));
    }
    this.slotAsking = false;
  }

  /**
   * Schedules one publication for all the changes of this turn of the event loop (a burst of
   * failures or joins costs one VIEW per member, not one per change).
   */
  private publish(): void {
    if (this.publishTimer) return;
    // The first change goes out at once; changes that follow within PUBLISH_MIN_MS (a wave of
    // joins) wait for the end of that window and go out together.
    const delay = Math.max(0, this.lastPublishMs + C.PUBLISH_MIN_MS - Date.now());
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null;
      if (this.membership && this.state !== 'closed') this.publishNow();
    }, delay);
  }

  /** Publishes the coordinator's view to itself and every member connected to it. */
  private publishNow(): void {
    const m = this.membership!;
    const view = m.toView(Math.max(this.store.maxSeq, m.maxReportedSeq()), Math.round(this.periodEstMs));
    this.lastPublishMs = Date.now();
    this.applyView(view);
    const frame = encode(view); // encoded once for every member
    for (const id of m.members.keys()) this.sessions.get(id)?.sendEncoded(frame);
  }

  private applyView(view: ViewMessage): void {
    if (this.view && view.epoch <= this.view.epoch && view.coordinator === this.view.coordinator) return;
    this.view = view;
    if (this.periodSamples.length === 0 && view.periodMs > 0) this.periodEstMs = view.periodMs;
    const me = view.members.findIndex((m) => m.id === this.opts.ip);
    if (me < 0) {
      this.opts.log.warn({ epoch: view.epoch }, 'not in the view: rejoining');
      this.sessions.get(view.coordinator)?.send({ type: 'join' });
      return;
    }
    // Children the placement moved elsewhere are released at once (frees our slots).
    for (const child of this.relay.list()) {
      for (const s of child.stripes) {
        if (this.parentIn(view, child.id, s) !== this.opts.ip) this.relay.unsubscribe(child.id, s);
      }
    }
    const parents: string[] = [];
    for (let s = 0; s < view.stripes; s++) parents.push(this.parentIn(view, this.opts.ip, s));
    if (this.coordinatorId !== this.opts.ip) this.upstream.apply(view, parents);
    this.stateDirty = true;
    this.saveStateSoon();
    this.emit('view', view);
  }

  private parentIn(view: ViewMessage, id: string, s: number): string {
    const idx = view.members.findIndex((m) => m.id === id);
    const edge = view.edges[s]?.find(([c]) => c === idx);
    return edge ? view.members[edge[1]].id : '';
  }

  /** The server pushed a chunk: the source names it; other direct members ignore it. */
  private onServerChunk(data: Buffer, ms: number): void {
    this.lastServerPushMs = ms;
    this.serverBytes += data.length;
    this.bytesReceived += data.length;
    this.opts.metrics?.receivedBytes.inc({ peer: 'server' }, data.length);
    if (!this.isCoordinator) {
      this.recentPushes.push({ data, ms });
      if (this.recentPushes.length > C.RECENT_PUSHES) this.recentPushes.shift();
      return;
    }
    this.sourceChunk(this.nextSourceSeq(ms), data, ms);
  }

  private sourceChunk(seq: number, data: Buffer, ms: number): void {
    const shared = sharedBuffer(data.length);
    data.copy(shared);
    if (this.store.firstSeq === null) this.store.startAt(seq);
    void this.store.add(seq, shared, null, ms, 'server');
  }

  /**
   * A direct member taking the source role over maps the pushes it already holds onto the
   * stream by hash: a push whose hash is a stored chunk gives the numbering; the pushes after
   * it are the chunks the old source never relayed, and are injected under the next numbers
   * (numbered by elapsed periods when none matched).
   */
  private adoptRecentPushes(): void {
    const pushes = this.recentPushes;
    this.recentPushes = [];
    const known = new Map<string, number>();
    for (const seq of this.store.seqsFrom(0)) known.set(this.store.get(seq)!.hash.toString('hex'), seq);
    for (const p of pushes) {
      const seq = known.get(createHash('sha256').update(p.data).digest('hex'));
      if (seq !== undefined) this.lastPush = { seq, ms: p.ms };
      else this.sourceChunk(this.nextSourceSeq(p.ms), p.data, p.ms); // newer than the stream
    }
  }

  /**
   * Sequence for a new server push. While we are the source every push is the next chunk
   * (+1: the server sends each chunk once per round; timing jitter must not open holes).
   * Right after a takeover without a hash match, the gap since the newest known chunk is
   * estimated in periods; the result is never at or below a sequence already known.
   */
  private nextSourceSeq(ms: number): number {
    const known = Math.max(this.store.maxSeq, this.membership!.maxReportedSeq());
    let seq: number;
    if (this.lastPush) {
      seq = this.lastPush.seq + 1;
    } else if (known >= 0) {
      // The newest chunk's push time at the old source (originMs) dates it: count the
      // periods since then (same clock on one machine, NTP-close across machines).
      const last = this.store.get(this.store.maxSeq);
      const since = last ? ms - last.originMs : this.periodEstMs;
      seq = this.store.maxSeq + Math.max(1, Math.round(since / this.periodEstMs));
      this.opts.log.info({ since, periodMs: this.periodEstMs, from: this.store.maxSeq, seq }, 'numbering resumed after a takeover');
    } else if (this.previous.lastSeq >= 0) {
      // Our own earlier run (a restart): continue its numbering, never reuse a file name.
      seq = this.previous.lastSeq + Math.max(1, Math.round((ms - this.previous.lastMs) / this.periodEstMs));
    } else {
      seq = 0;
    }
    seq = Math.max(seq, known + 1);
    this.lastPush = { seq, ms };
    return seq;
  }

  /** Returns an open session to member `id`, dialing it if needed. */
  sessionTo(id: string): Promise<Session> {
    const open = this.sessions.get(id);
    if (open && open.state === 'open') return Promise.resolve(open);
    const pending = this.dialing.get(id);
    if (pending) return pending;
    const member = this.view?.members.find((m) => m.id === id);
    const port = member?.p2pPort ?? this.p2pPort;
    const p = new Promise<Session>((resolve, reject) => {
      const sock = net.connect({ host: id, port, localAddress: this.opts.ip });
      const s = this.makeSession(sock, true);
      const timer = setTimeout(() => s.close('PEER_TIMEOUT: dial timed out'), C.CONTROL_TIMEOUT_MS);
      s.once('open', () => { clearTimeout(timer); resolve(s); });
      s.once('close', (why: string) => { clearTimeout(timer); reject(new Error(why)); });
    });
    this.dialing.set(id, p);
    const clear = () => this.dialing.delete(id);
    p.then(clear, clear);
    return p;
  }

  private accept(sock: net.Socket): void {
    if (this.state === 'closed') return void sock.destroy();
    const s = this.makeSession(sock, false);
    const timer = setTimeout(() => s.close('PEER_TIMEOUT: no HELLO'), C.CONTROL_TIMEOUT_MS);
    s.once('open', () => clearTimeout(timer));
    s.once('close', () => clearTimeout(timer));
  }

  private makeSession(sock: net.Socket, outbound: boolean): Session {
    sock.setNoDelay(true);
    const s = new Session(sock, {
      outbound,
      hello: {
        type: 'hello', id: this.opts.ip, p2pPort: this.p2pPort, httpPort: this.httpPort,
        slots: this.opts.slots, channel: this.opts.channel, direct: this.direct, maxSeq: this.store.maxSeq,
      },
      alloc: (n, type) => (type === MsgType.CHUNK ? sharedBuffer(n) : Buffer.allocUnsafe(n)),
      heartbeat: () => ({ type: 'heartbeat', maxSeq: this.store.maxSeq, sent: this.bytesSent, direct: this.direct }),
    });
    s.on('open', (hello) => {
      if (hello.channel !== this.opts.channel) return s.close(`peer of channel ${hello.channel}, we are ${this.opts.channel}`);
      const prev = this.sessions.get(hello.id);
      if (!prev || prev.state !== 'open' || outbound) this.sessions.set(hello.id, s);
      this.dead.delete(hello.id);
      this.opts.metrics?.connections.inc({ direction: outbound ? 'out' : 'in' });
    });
    this.allSessions.add(s);
    s.on('message', (m: PeerMessage) => this.onMessage(s, m));
    s.on('close', (why: string) => {
      this.allSessions.delete(s);
      this.onSessionClose(s, why);
    });
    return s;
  }

  /** The message table: one handler per type. */
  private onMessage(s: Session, m: PeerMessage): void {
    switch (m.type) {
      case 'join': return this.onJoin(s);
      case 'view':
        if (m.coordinator === s.id) {
          this.coordinatorId = m.coordinator;
          if (this.membership && m.coordinator !== this.opts.ip) this.membership = null;
          this.applyView(m);
        }
        return;
      case 'heartbeat':
        return this.membership?.update(s.id, m.sent, m.maxSeq, m.direct);
      case 'subscribe':
        if (!this.relay.subscribe(s, m.stripe, m.fromSeq)) s.send({ type: 'refused', stripe: m.stripe, reason: 1 });
        return;
      case 'unsubscribe': return this.relay.unsubscribe(s.id, m.stripe);
      case 'refused': return this.upstream.onRefused(s.id, m.stripe);
      case 'subscribed': return this.upstream.onSubscribed(s.id, m.stripe);
      case 'chunk':
        if (!this.upstream.accepts(s.id, m.seq)) {
          this.opts.log.warn({ code: 'UNEXPECTED_CHUNK', from: s.addr, seq: m.seq }, 'chunk from a peer that is neither our parent nor asked: dropped');
          return;
        }
        this.bytesReceived += m.data.byteLength;
        this.opts.metrics?.receivedBytes.inc({ peer: s.id }, m.data.byteLength);
        this.upstream.onChunk(s.id, m.seq);
        void this.store.add(m.seq, m.data, m.hash, m.originMs, s.addr);
        return;
      case 'fetch': {
        const c = this.store.get(m.seq);
        if (c) {
          s.send({ type: 'chunk', seq: c.seq, hash: c.hash, originMs: c.originMs, data: c.data });
          this.bytesSent += c.data.byteLength;
        } else s.send({ type: 'missing', seq: m.seq });
        return;
      }
      case 'missing': return this.upstream.onMissing(s.id, m.seq);
      case 'suspect': return this.onSuspect(s.id, m.id);
      case 'bye': return this.onBye(s);
      case 'redirect': case 'announce': case 'hello': return;
    }
  }

  private onJoin(s: Session): void {
    const hello = s.remote!;
    if (!this.membership) {
      const coord = this.sessions.get(this.coordinatorId);
      if (coord && coord.state === 'open' && this.state === 'member') s.send({ type: 'redirect', ip: coord.id, port: coord.remote!.p2pPort });
      else this.pendingJoins.add(s); // our coordinator is failing over: answer when it is known
      return;
    }
    this.sessions.set(hello.id, s);
    const changed = this.membership.join({
      id: hello.id, p2pPort: hello.p2pPort, httpPort: hello.httpPort, slots: hello.slots,
      direct: hello.direct, maxSeq: hello.maxSeq,
    });
    this.opts.log.info({ member: hello.id, slots: hello.slots, epoch: this.membership.epoch }, changed ? 'member joined' : 'member reconnected');
    if (changed) this.publish();
    else s.send(this.membership.toView(this.store.maxSeq, Math.round(this.periodEstMs)));
  }

  private onSuspect(reporter: string, suspect: string): void {
    const m = this.membership;
    if (!m) return;
    const link = this.sessions.get(suspect);
    if (!link || link.state !== 'open') {
      if (m.remove(suspect)) this.publish();
    } else if (m.avoidEdge(suspect, reporter, Date.now(), 10_000)) {
      this.publish();
    }
  }

  private onBye(s: Session): void {
    this.opts.log.info({ peer: s.id }, 'neighbour leaving');
    if (this.membership?.remove(s.id)) this.publish();
    this.dead.add(s.id);
    if (s.id === this.coordinatorId) this.coordinatorFailed();
    this.upstream.onParentGone(s.id);
  }

  private onSessionClose(s: Session, why: string): void {
    this.relay.drop(s);
    if (s.remote) this.opts.metrics?.connections.dec({ direction: s.outbound ? 'out' : 'in' });
    else if (/violation|TIMEOUT/.test(why)) this.opts.log.warn({ why }, 'connection closed before HELLO');
    if (!s.remote || this.sessions.get(s.id) !== s) return;
    this.sessions.delete(s.id);
    if (this.state === 'leaving' || this.state === 'closed') return;
    this.opts.log.info({ peer: s.addr, why }, 'session closed');
    if (this.membership?.remove(s.id)) this.publish();
    if (s.id === this.coordinatorId && !this.membership) this.coordinatorFailed();
    this.upstream.onParentGone(s.id);
  }

  /**
   * The link to the coordinator died or the coordinator left. Ask the old coordinator again
   * first (the suspicion may be false: a cut link, a busy machine), then each successor in
   * view order, direct members first; the first successor that is ourselves takes the role.
   * With nobody left, go back to the server.
   */
  private coordinatorFailed(): void {
    if (!this.view || this.membership || this.state !== 'member') return;
    const view = this.view;
    const old = view.coordinator;
    this.state = 'joining';
    this.opts.log.warn({ old }, 'coordinator lost: rejoining');
    void (async () => {
      if (!this.dead.has(old) && (await this.joinVia([old]))) return;
      this.dead.add(old);
      const others = view.members.filter((m) => m.id !== old && !this.dead.has(m.id));
      const order = [...others.filter((m) => m.direct), ...others.filter((m) => !m.direct)].map((m) => m.id);
      for (const id of order) {
        if (this.state !== 'joining') return;
        if (id === this.opts.ip) return this.becomeCoordinator(view);
        if (await this.joinVia([id])) return;
        this.dead.add(id);
      }
      if (this.state === 'joining') void this.joinLoop();
    })();
  }

  /**
   * We coordinate without the server slot while member `holder` has it (it restarted and got
   * it back before us): hand the role over. BYE makes every member elect the next coordinator,
   * direct members first, i.e. `holder`; we join it as a plain member.
   */
  private abdicate(holder: string): void {
    this.opts.log.warn({ holder }, 'a member holds the server slot: handing the coordinator role over');
    const members = [...this.membership!.members.keys()];
    this.membership = null;
    this.slotHeldElsewhereSince = 0;
    for (const id of members) this.sessions.get(id)?.send({ type: 'bye', reason: 1 });
    this.coordinatorId = holder;
    this.state = 'joining';
    void this.joinVia([holder]).then((ok) => { if (!ok && this.state === 'joining') void this.joinLoop(); });
  }

  /** Saves the view's members for a restart, at most every STATE_SAVE_MS (the tick retries). */
  private saveStateSoon(): void {
    const now = Date.now();
    if (!this.stateDirty || !this.view || now - this.lastStateSaveMs < C.STATE_SAVE_MS) return;
    this.stateDirty = false;
    this.lastStateSaveMs = now;
    void saveState(this.opts.dir, { members: this.view.members.map((m) => m.id), lastSeq: this.store.maxSeq, ms: now });
  }

  /** The single heartbeat: session liveness, coordinator duties, repair. */
  private tick(): void {
    const now = Date.now();
    // After a stall of our own event loop, the neighbours' bytes are still unread in the
    // socket buffers: judging their silence now would declare live peers dead.
    const stalled = now - this.lastTickMs > 3 * C.TICK_MS;
    this.lastTickMs = now;
    for (const s of [...this.allSessions]) s.tick(now, stalled);
    const m = this.membership;
    if (m) {
      m.update(this.opts.ip, this.bytesSent, this.store.maxSeq, this.direct);
      const holder = this.direct ? undefined : [...m.members.values()].find((x) => x.direct);
      this.slotHeldElsewhereSince = holder ? this.slotHeldElsewhereSince || now : 0;
      if (holder && now - this.slotHeldElsewhereSince >= 2 * C.TICK_MS) return this.abdicate(holder.id);
      // Watchdog: a source the server stopped pushing to (the server restarted and forgot its
      // clients, or removed us) asks for its slot again.
      const since = Math.max(this.lastServerPushMs, this.graceUntil - C.COORDINATOR_GRACE_MS);
      if (this.direct && since > 0 && now - since > C.SILENT_SERVER_PERIODS * this.periodEstMs) {
        this.opts.log.warn({ silentMs: now - since }, 'no push from the server: asking for the slot again');
        this.direct = false;
        this.lastServerPushMs = now;
        void this.askForSlot();
      }
      if (now > this.graceUntil && this.graceUntil > 0) {
        this.graceUntil = 0;
        let changed = false;
        for (const id of [...m.members.keys()]) if (!this.sessions.has(id)) changed = m.remove(id) || changed;
        if (changed) this.publish();
      }
      if (now - this.lastRebalanceMs >= C.REBALANCE_MS) {
        this.lastRebalanceMs = now;
        const avg = this.store.stored > 0 ? this.bytesReceived / Math.max(1, this.store.stored) : 250_000;
        if (m.rebalance(avg, now)) this.publish();
      }
    }
    this.upstream.tick(now, this.periodEstMs);
    this.saveStateSoon();
    const dt = (now - this.rates.t) / 1000;
    if (dt >= 2) {
      this.rates = {
        t: now, sent: this.bytesSent, recv: this.bytesReceived,
        rateSent: (this.bytesSent - this.rates.sent) / dt, rateRecv: (this.bytesReceived - this.rates.recv) / dt,
      };
      if (this.opts.metrics) void listPending(this.opts.dir).then((p) => this.opts.metrics!.pendingFiles.set(p.length), () => undefined);
    }
  }

  /** @brief Graceful leave: `12C`, BYE, one more period on 9091 and for our children, close. */
  async stop(): Promise<void> {
    if (this.state === 'closed' || this.state === 'leaving') return;
    const wasJoined = this.state === 'member';
    this.state = 'leaving';
    if (this.direct) await this.link.leave().catch(() => undefined);
    if (wasJoined) {
      for (const s of new Set(this.sessions.values())) s.send({ type: 'bye', reason: 0 });
      await sleep(this.periodEstMs);
    }
    this.state = 'closed';
    if (this.timer) clearInterval(this.timer);
    if (this.publishTimer) clearTimeout(this.publishTimer);
    for (const s of [...this.allSessions]) s.close('leaving');
    await new Promise<void>((r) => (this.p2pServer ? this.p2pServer.close(() => r()) : r()));
    await this.link.close();
    if (!this.opts.pool) await this.pool.destroy();
  }

  /** @brief The /status document. */
  async status(): Promise<PeerStatus> {
    const view = this.view;
    const pending = await listPending(this.opts.dir).catch(() => []);
    this.opts.metrics?.pendingFiles.set(pending.length);
    const addrOf = (id: string) => `${id}:${view?.members.find((m) => m.id === id)?.p2pPort ?? this.p2pPort}`;
    const up = this.upstream.links().map((l) => ({ addr: addrOf(l.id), bytes: this.sessions.get(l.id)?.chunkBytesReceived ?? 0, stripes: l.stripes }));
    if (this.direct && this.isCoordinator) up.unshift({ addr: `${this.opts.serverHost}:${this.opts.serverPort}`, bytes: this.serverBytes, stripes: [] });
    return {
      id: this.opts.ip, channel: this.opts.channel, direct: this.direct,
      role: this.isCoordinator ? 'source' : 'relay',
      coordinator: this.coordinatorId ? addrOf(this.coordinatorId) : null,
      epoch: view?.epoch ?? 0, slots: this.opts.slots, p2pPort: this.p2pPort, httpPort: this.httpPort,
      upstream: up,
      downstream: this.relay.list().map((c) => ({ addr: addrOf(c.id), bytes: c.session.chunkBytesSent, stripes: c.stripes })),
      bytesSent: this.bytesSent, bytesReceived: this.bytesReceived,
      rateSent: this.rates.rateSent, rateReceived: this.rates.rateRecv,
      lastSeq: this.store.maxSeq >= 0 ? this.store.maxSeq : null, firstSeq: this.store.firstSeq,
      chunksReceived: this.store.stored, chunksLost: this.store.lost, duplicates: this.store.duplicates,
      corrupt: this.store.corrupt, pending,
      played: this.opts.player?.played ?? 0, stalls: this.opts.player?.stalls ?? 0,
      diskErrors: this.store.diskErrors, lastDiskError: this.store.lastDiskError,
      recoveries: this.recoveries, lastRecoveryMs: this.lastRecoveryMs, maxRecoveryMs: this.maxRecoveryMs,
      lastReattachMs: this.lastReattachMs, maxReattachMs: this.maxReattachMs,
      workerFailures: this.pool.workerFailures,
      members: (view?.members ?? []).map((m) => ({ id: m.id, ip: m.id, p2pPort: m.p2pPort, httpPort: m.httpPort, slots: m.slots })),
    };
  }
}

/** @brief Resolves after `ms`. */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
