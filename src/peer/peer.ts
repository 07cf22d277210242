/**
 * @file peer.ts
 * @brief A relaytv peer, composed: builds its parts, starts them, ticks them, stops them.
 *
 * How it works: each part is one noun in its own file (see the report's architecture section):
 * connections (sessions), dispatch + handlers (who may send what, and to which part), roles
 * (joining / member / coordinator), join, coordinator (membership and forest), view and replica
 * (what a member and a successor know), source (numbering, signing, the server slot), upstream
 * (parents, repair), relay (children), store (ring + disk through the pool), serverLink (the
 * course's protocol). One timer ticks them all; `stop()` leaves gracefully and releases
 * everything. Timings, the clock, the transport and the push port are options, so the same code
 * runs as a process, many to a process (`relaytv swarm`), or in memory (the unit tier).
 */
import { ServerLink, listeningPushPort } from './serverLink';
import { Connections } from './connections';
import { ChunkStore } from './store';
import { Relay } from './relay';
import { Upstream } from './upstream';
import { View } from './view';
import { Replica } from './replica';
import { Join } from './join';
import { Coordinator } from './coordinator';
import { Source, PeriodEstimator } from './source';
import { Roles } from './roles';
import { Ledger } from './stats';
import { dispatch } from './dispatch';
import { dispatchContext, watchStore } from './handlers';
import { buildStatus } from './report';
import { createChunkPool, sharedBuffer, ChunkPool } from './pool';
import { StateFile, loadOrCreateKey, SavedState } from './state';
import { MsgType, MemberRef } from '../protocol/peer';
import { tcpTransport } from '../transport/tcp';
import type { PeerStatus, PlayerFigures } from './status';
import * as C from '../constants';
import { DEFAULT_TIMINGS, PeerOptions, Parts, Timings } from './options';

/** A relaytv peer. */
export class Peer {
  /** The parts. */
  readonly parts: Parts;
  /** The role controller. */
  readonly roles: Roles;
  /** The player's figures (a forked player updates them). */
  player: PlayerFigures | null = null;
  private readonly pool: ChunkPool;
  private readonly state: StateFile;
  private previous: SavedState = { coordinator: null, successors: [], lastPush: null, savedMs: 0 };
  private timer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  /** When a tick last found our loop stalled, or 0. */
  private lastStallMs = 0;
  private readonly t: Timings;

  /** @param opts Addresses, channel, slots, folder, and the seams. */
  constructor(private readonly opts: PeerOptions) {
    const t = (this.t = { ...DEFAULT_TIMINGS, ...opts.timings });
    const now = opts.now ?? Date.now;
    const log = opts.log;
    const stats = new Ledger();
    const transport = opts.transport ?? tcpTransport;
    const self: MemberRef = { id: opts.ip, p2pPort: opts.p2pPort, httpPort: opts.httpPort };
    this.pool = opts.pool ?? createChunkPool(1);
    this.state = new StateFile(opts.dir);
    const period = new PeriodEstimator(opts.periodMs ?? C.DEFAULT_PERIOD_S * 1000);
    const store = new ChunkStore({ dir: opts.dir, channel: opts.channel, pool: this.pool, stats, now });
    const view = new View();
    const key = loadOrCreateKey(opts.dir);
    const p = {} as Parts;
    const connections = new Connections({
      self: { ...self, slots: opts.slots, channel: opts.channel }, transport, key: opts.key ?? null, now, log, stats,
      timings: t, alloc: (n, type) => (type === MsgType.chunk ? sharedBuffer(n) : Buffer.allocUnsafe(n)),
      maxSeq: () => store.maxSeq, direct: () => p.source.direct,
      onOpen: (s) => p.upstream.linkOpened(s.id),
      onMessage: (s, m) => dispatch(this.context, s, m),
      onClose: (s, code) => this.roles.linkClosed(s.id, code),
      keep: (id) => this.context.knows(id) || p.join.awaits(id),
    });
    const dial = (r: MemberRef) => connections.dial(r.id, r.p2pPort);
    const link = new ServerLink({
      ip: opts.ip, serverHost: opts.serverHost, serverPort: opts.serverPort, serverIp: opts.serverIp ?? opts.serverHost,
      channel: opts.channel, transport, log, stats, pushes: opts.pushes ?? listeningPushPort(transport, opts.ip, opts.dataPort, now),
    });
    Object.assign(p, {
      self, channel: opts.channel, slots: opts.slots, stripes: opts.stripes ?? Math.min(C.AUTO_STRIPES_MAX, Math.max(1, opts.slots)), log, stats, now, period,
      connections, view, store, link, key, replica: new Replica(),
      relay: new Relay({
        store, stats, log, now, slots: opts.slots, slowReceiverMs: t.slowReceiverMs, stripes: () => (this.roles.role === 'coordinator' ? p.coordinator.membership!.stripes : view.stripes || 1),
        isChild: (id, s) => this.context.isChild(id, s), session: (id) => connections.get(id), watch: (id, r, on) => connections.watch(id, r, on),
      }),
      upstream: new Upstream({
        self: opts.ip, store, stats, log, now, dial, session: (id) => connections.get(id), watch: (id, r, on) => connections.watch(id, r, on),
        holders: () => (this.roles.role === 'coordinator' ? p.coordinator.someMembers(4)
          : [view.coordinator, ...view.successors].filter((x): x is MemberRef => !!x)),
        suspect: (id, reason) => { if (view.coordinator) connections.get(view.coordinator.id)?.send({ type: 'suspect', id, reason }); },
        sourceSinceMs: () => view.keySinceMs,
      }),
      source: new Source({
        store, link, key, period, log, now, previous: null,
        numbered: () => this.save(),
      }),
      keys: () => [key.publicRaw, ...view.keys], // ours too: a restarted source's chunks of its previous run
      saveState: () => this.save(),
      stalledLately: () => {
        const at = now();
        // Leaving a stall the tick has not seen yet, or one it saw within the heartbeat timeout.
        return this.loopStalled(at) || (this.lastStallMs > 0 && at - this.lastStallMs < t.heartbeatTimeoutMs);
      },
    });
    p.join = new Join({
      self, link, source: p.source, dial, log, replyTimeoutMs: t.replyTimeoutMs, periodMs: () => period.ms,
      previous: () => (view.coordinator ? { coordinator: view.coordinator, successors: view.successors } : this.recent()),
      joined: (s, u) => this.roles.joined(s, u),
    });
    p.coordinator = new Coordinator({
      self, slots: opts.slots, connections, link, source: p.source, log, now, timings: t,
      header: () => ({ liveSeq: store.maxSeq, periodMs: period.ms, source: { id: self.id, key: key.publicRaw } }),
      rootChanged: () => p.relay.viewChanged(), abdicated: (to) => this.roles.abdicated(to), mergeWith: (r) => this.roles.mergeWith(r),
    });
    this.parts = p;
    this.roles = new Roles(p);
    this.context = dispatchContext(p, this.roles);
    link.on('chunk', (data: Buffer, ms: number) => p.source.onPush(data, ms));
    watchStore(p, this.roles, opts.dir);
  }

  private readonly context: ReturnType<typeof dispatchContext>;

  /** @brief Opens every listener, then joins the channel. */
  async start(): Promise<void> {
    const p = this.parts;
    this.previous = await this.state.load();
    p.source.last = this.previous.lastPush;
    if (this.previous.lastPush) p.log.info({ lastPush: this.previous.lastPush, coordinator: this.previous.coordinator?.id }, 'previous run found in the chunk folder');
    await p.link.start();
    await p.connections.listen();
    this.lastTick = p.now();
    this.timer = setInterval(() => this.tick(), this.t.tickMs);
    this.roles.start();
  }

  /** The one heartbeat: every part's periodic work. */
  private tick(): void {
    const p = this.parts;
    const now = p.now();
    const stalled = this.loopStalled(now); // judge nobody's silence then
    this.lastTick = now;
    if (stalled) this.lastStallMs = now;
    p.connections.tick(now, stalled);
    this.roles.tick(now);
    p.relay.tick(now);
    p.upstream.tick(now, p.period.ms);
    p.source.tick(now);
    p.coordinator.tick(now);
  }

  /** Whether our own loop stalled: the tick is more than 3 ticks late. */
  private loopStalled(now: number): boolean {
    return this.lastTick > 0 && now - this.lastTick > 3 * this.t.tickMs;
  }

  /** @brief Graceful leave (`12C`, BYE, one more period), then every resource released. */
  async stop(): Promise<void> {
    const p = this.parts;
    await this.roles.leave();
    if (this.timer) clearInterval(this.timer);
    p.source.destroy();
    await p.connections.destroy();
    await p.link.close();
    await this.state.flushed();
    if (!this.opts.pool) await this.pool.destroy();
  }

  /** @brief Releases everything at once, without a goodbye (what a crash leaves to the others). */
  async destroy(): Promise<void> {
    const p = this.parts;
    if (this.timer) clearInterval(this.timer);
    this.roles.role = 'closed';
    p.join.destroy();
    p.source.destroy();
    p.coordinator.stop();
    await p.connections.destroy('CLOSED');
    await p.link.close();
    if (!this.opts.pool) await this.pool.destroy();
  }

  /** @brief Fault injection for tests (SIGUSR2): one chunk worker thread dies. */
  crashWorker(): Promise<void> {
    return this.pool.crashOne();
  }

  /** @brief The /status document. */
  status(): Promise<PeerStatus> {
    return buildStatus(this.parts, this.roles, { player: this.player, holderPid: this.opts.holderPid ?? null, dir: this.opts.dir, server: `${this.opts.serverHost}:${this.opts.serverPort}` });
  }

  /** The overlay we were in before a restart, if recent. */
  private recent(): { coordinator: MemberRef | null; successors: MemberRef[] } {
    const fresh = this.parts.now() - this.previous.savedMs < C.STATE_MAX_AGE_MS;
    return fresh ? this.previous : { coordinator: null, successors: [] };
  }

  private save(): void {
    const p = this.parts;
    const coordinating = this.roles.role === 'coordinator';
    this.state.save({
      coordinator: coordinating ? p.self : p.view.coordinator ?? this.previous.coordinator,
      successors: coordinating ? p.coordinator.membership?.successors() ?? [] : p.view.successors,
      lastPush: p.source.last, savedMs: p.now(),
    });
  }
}
