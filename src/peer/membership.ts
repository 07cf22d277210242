/**
 * @file membership.ts
 * @brief The coordinator's membership: every member, the forest, the successors, and what each
 * member must be told. Pure: no sockets, no timers (the coordinator and the simulator drive it).
 *
 * How it works: joins, leaves, suspicions and the rebalance period go to the Forest, which
 * returns the edges that moved. Each moved edge touches three members (the child, its old and
 * its new parent); `drain()` turns what touched them since the last drain into one UPDATE per
 * touched member (a delta of its parents and children, `since` = the epoch of its previous
 * update, so a member that missed one asks for a RESYNC), and one REPLICA delta for the
 * successors (the few members that hold the whole membership to take the role over). A change
 * of the successor list or of the source's key is the one thing every member is told. Work per
 * change: O(edges moved); per drain: O(members touched + their edges).
 */
import { Forest, EdgeChange } from './forest';
import type { MemberRef, Msg, ReplicaOp } from '../protocol/peer';
import { MAX_MEMBERS, REPLICA_PAGE_OPS, SUCCESSORS } from '../constants';

/** What the coordinator knows of a member. */
export interface MemberInfo {
  /** Where to reach it. */
  ref: MemberRef;
  /** Its slots (restriction 3). */
  slots: number;
  /** Join order (succession: direct members first, then the oldest). */
  order: number;
  /** True when the server lists it (it holds a direct slot). */
  direct: boolean;
  /** Epoch of the last UPDATE sent to it (0: none yet, the next one is full). */
  sentEpoch: number;
  /** Epoch of the last REPLICA sent to it while it is a successor (0: the next one is full). */
  replicaEpoch: number;
}

/** Construction options. */
export interface MembershipOptions {
  /** The coordinator itself (root of every stripe). */
  self: MemberRef;
  /** Its slots. */
  slots: number;
  /** Stripes K. */
  stripes: number;
  /** Time constant of the members' load average, ms. */
  tauMs: number;
  /** Epoch to continue from (a successor taking over continues the old coordinator's). */
  epoch?: number;
  /** Called with every batch of moved edges (the simulator follows the placement with it). */
  onEdges?: (changes: EdgeChange[]) => void;
}

/** What one drain produces. */
export interface Publication {
  /** One UPDATE per member to tell. */
  updates: Map<string, Msg<'update'>>;
  /** The REPLICA frames per successor (one, or the pages of a large copy: see REPLICA_PAGE_OPS). */
  replicas: Map<string, Msg<'replica'>[]>;
  /** The coordinator's own children changed (its relay's authority). */
  rootChanged: boolean;
}

/** What a drain must tell one member about its own edges. */
interface Touch {
  /** Stripes whose parent changed. */
  parents: Set<number>;
  /** Children added or removed, by `stripe|child`. */
  children: Map<string, { stripe: number; child: string; add: boolean }>;
}

/** Header fields every UPDATE carries, supplied by the coordinator at drain time. */
export interface Header {
  /** The source's newest sequence (joiners start there). */
  liveSeq: number;
  /** The chunk period as the source measures it, ms. */
  periodMs: number;
  /** The source and its public key (null until it has one). */
  source: { id: string; key: Buffer } | null;
}

/** The membership view, its forest and its publications. */
export class Membership {
  /** The placement. */
  readonly forest: Forest;
  /** Every member but the coordinator, by id. */
  readonly members = new Map<string, MemberInfo>();
  /** Version of the publications (one per drain that told anyone anything). */
  epoch: number;
  private nextOrder = 0;
  private readonly touched = new Map<string, Touch>();
  private replicaOps: ReplicaOp[] = [];
  private everyone = false;
  private rootTouched = false;
  private lastSuccessors = '';
  private lastSource = '';

  /**
   * @param opts The coordinator, stripes, epoch to continue from.
   * @param forest A placement to continue (a takeover restores one), else a new one.
   */
  constructor(private readonly opts: MembershipOptions, forest?: Forest) {
    this.forest = forest ?? new Forest({ rootId: opts.self.id, rootSlots: opts.slots, stripes: opts.stripes, tauMs: opts.tauMs });
    this.epoch = opts.epoch ?? 0;
  }

  /** @brief The coordinator's own ref. */
  get self(): MemberRef { return this.opts.self; }
  /** @brief Stripes K. */
  get stripes(): number { return this.forest.stripes; }

  /**
   * @brief Adds a member (a known one keeps its place: only its next UPDATE is full).
   * @param ref Where to reach it. @param slots Its slots. @param now Clock, ms.
   * @return 'joined', 'known', or 'full' when MAX_MEMBERS is reached.
   */
  join(ref: MemberRef, slots: number, now: number): 'joined' | 'known' | 'full' {
    const known = this.members.get(ref.id);
    if (known) {
      known.ref = ref;
      known.sentEpoch = 0;
      this.touch(ref.id);
      return 'known';
    }
    if (this.members.size >= MAX_MEMBERS) return 'full';
    this.members.set(ref.id, { ref, slots, order: this.nextOrder++, direct: false, sentEpoch: 0, replicaEpoch: 0 });
    this.replicaOps.push({ op: 'member', ref, slots, home: -1 });
    this.apply(this.forest.add(ref.id, slots, now));
    const home = this.forest.info(ref.id)?.home ?? -1;
    (this.replicaOps[this.replicaOps.length - 1] as { home: number }).home = home;
    this.touch(ref.id);
    return 'joined';
  }

  /**
   * @brief Registers a member the forest already holds (a takeover from a replica): its next
   * UPDATE is full.
   */
  adopt(ref: MemberRef, slots: number): void {
    this.members.set(ref.id, { ref, slots, order: this.nextOrder++, direct: false, sentEpoch: 0, replicaEpoch: 0 });
    this.touch(ref.id);
  }

  /** @brief An UPDATE could not be delivered (no link): the member's next one is full, sent when it returns. */
  undelivered(id: string): void {
    const m = this.members.get(id);
    if (m) m.sentEpoch = 0;
  }

  /** @brief Removes a member. @return true when it was one. */
  remove(id: string, now: number): boolean {
    if (!this.members.delete(id)) return false;
    this.touched.delete(id);
    this.replicaOps.push({ op: 'gone', id });
    this.apply(this.forest.remove(id, now));
    return true;
  }

  /**
   * @brief A child reports its link to `parent` broken: it moves off that edge for `ms`.
   * @return Whether any edge moved.
   */
  avoid(parent: string, child: string, now: number, ms: number): boolean {
    return this.apply(this.forest.avoid(parent, child, now, ms));
  }

  /** @brief Keeps a member out of parent positions for `ms` (slow, or it sent bad data). */
  demote(id: string, now: number, ms: number): boolean {
    return this.apply(this.forest.demote(id, now, ms));
  }

  /** @brief The rebalance period's step (expiries, rotation). */
  rebalance(now: number): boolean {
    return this.apply(this.forest.rebalance(now));
  }

  /**
   * @brief Records which members the server lists (from `11C`): succession puts them first.
   * @param listed IPs the server lists for the channel.
   */
  setDirect(listed: ReadonlySet<string>): void {
    for (const m of this.members.values()) m.direct = listed.has(m.ref.id);
  }

  /** @brief The successors, in order: direct members first, then the oldest. */
  successors(): MemberRef[] {
    const all = [...this.members.values()];
    const pick = (direct: boolean) => all.filter((m) => m.direct === direct).sort((a, b) => a.order - b.order);
    return [...pick(true), ...pick(false)].slice(0, SUCCESSORS).map((m) => m.ref);
  }

  /** @brief Marks a member for a full UPDATE (it asked for a RESYNC, or reconnected). */
  resyncMember(id: string): void {
    const m = this.members.get(id);
    if (m) { m.sentEpoch = 0; this.touch(id); }
  }

  /** @brief Marks a successor for a full REPLICA. */
  resyncReplica(id: string): void {
    const m = this.members.get(id);
    if (m) m.replicaEpoch = 0;
  }

  /** @brief Whether anything waits to be published. */
  get dirty(): boolean {
    return this.touched.size > 0 || this.replicaOps.length > 0 || this.everyone || this.rootTouched;
  }

  /**
   * @brief Builds the publications of everything that changed since the last drain.
   * @param header Live sequence, period and source of this moment.
   * @return UPDATEs, REPLICAs, and whether the root's own children changed.
   */
  drain(header: Header): Publication {
    const successors = this.successors();
    const succKey = successors.map((s) => `${s.id}:${s.p2pPort}`).join(',');
    const srcKey = header.source ? `${header.source.id}:${header.source.key.toString('hex')}` : '';
    if (succKey !== this.lastSuccessors || srcKey !== this.lastSource) this.everyone = true;
    this.lastSuccessors = succKey;
    this.lastSource = srcKey;
    const out: Publication = { updates: new Map(), replicas: new Map(), rootChanged: this.rootTouched };
    const succIds = new Set(successors.map((s) => s.id));
    const needReplica = [...succIds].some((id) => this.members.get(id)!.replicaEpoch === 0) || this.replicaOps.length > 0;
    if (!this.dirty && !needReplica) return out;
    const epoch = ++this.epoch;
    const targets = this.everyone ? [...this.members.keys()] : [...this.touched.keys()];
    for (const id of targets) {
      const m = this.members.get(id);
      if (m) out.updates.set(id, this.update(m, epoch, header, successors));
    }
    for (const id of succIds) {
      const m = this.members.get(id)!;
      const full = m.replicaEpoch === 0;
      out.replicas.set(id, this.pages(full, epoch, m.replicaEpoch, full ? this.snapshot() : this.replicaOps));
      m.replicaEpoch = epoch;
    }
    for (const m of this.members.values()) if (!succIds.has(m.ref.id)) m.replicaEpoch = 0;
    this.touched.clear();
    this.replicaOps = [];
    this.everyone = false;
    this.rootTouched = false;
    return out;
  }

  /**
   * The REPLICA frames of one copy: REPLICA_PAGE_OPS operations each. The first is full or follows
   * `since`; the others follow `epoch` itself (a successor applies them in order on one session).
   * Members come before edges (snapshot order), so a page never names a member still to come.
   */
  private pages(full: boolean, epoch: number, since: number, ops: ReplicaOp[]): Msg<'replica'>[] {
    const out: Msg<'replica'>[] = [];
    for (let i = 0; i === 0 || i < ops.length; i += REPLICA_PAGE_OPS) {
      const first = i === 0;
      out.push({ type: 'replica', full: first && full, epoch, since: first ? since : epoch, stripes: this.stripes, ops: ops.slice(i, i + REPLICA_PAGE_OPS) });
    }
    return out;
  }

  /** @brief Every member and edge as REPLICA operations (a successor's full copy). */
  snapshot(): ReplicaOp[] {
    const ops: ReplicaOp[] = [];
    for (const m of this.members.values()) ops.push({ op: 'member', ref: m.ref, slots: m.slots, home: this.forest.info(m.ref.id)?.home ?? -1 });
    for (const e of this.forest.edges()) ops.push({ op: 'edge', stripe: e.stripe, child: e.child, parent: e.parent });
    return ops;
  }

  /** One member's UPDATE: a delta of what touched it, or everything when it is due a full one. */
  private update(m: MemberInfo, epoch: number, header: Header, successors: MemberRef[]): Msg<'update'> {
    const id = m.ref.id;
    const full = m.sentEpoch === 0;
    const t = this.touched.get(id);
    const K = this.stripes;
    const stripes = full ? Array.from({ length: K }, (_, s) => s) : [...(t?.parents ?? [])];
    const parents = stripes.map((s) => ({ stripe: s, parent: this.refOf(this.forest.parentOf(id, s)) }));
    const children = full
      ? Array.from({ length: K }, (_, s) => this.forest.childrenOf(id, s).map((c) => ({ stripe: s, id: c, add: true }))).flat()
      : [...(t?.children.values() ?? [])].map((c) => ({ stripe: c.stripe, id: c.child, add: c.add }));
    const msg: Msg<'update'> = {
      type: 'update', full, epoch, since: m.sentEpoch, stripes: K, periodMs: Math.round(header.periodMs), liveSeq: header.liveSeq,
      coordinator: this.self, successors, source: header.source, parents, children,
    };
    m.sentEpoch = epoch;
    return msg;
  }

  private refOf(id: string): MemberRef | null {
    if (!id) return null;
    return id === this.self.id ? this.self : this.members.get(id)?.ref ?? null;
  }

  private touch(id: string): Touch {
    let t = this.touched.get(id);
    if (!t) this.touched.set(id, (t = { parents: new Set(), children: new Map() }));
    return t;
  }

  /** Records what a list of moved edges touched; returns whether there were any. */
  private apply(changes: EdgeChange[]): boolean {
    const root = this.self.id;
    if (changes.length) this.opts.onEdges?.(changes);
    for (const c of changes) {
      if (this.members.has(c.child)) this.touch(c.child).parents.add(c.stripe);
      for (const [p, add] of [[c.from, false], [c.to, true]] as const) {
        if (!p) continue;
        if (p === root) { this.rootTouched = true; continue; }
        if (this.members.has(p)) this.touch(p).children.set(`${c.stripe}|${c.child}`, { stripe: c.stripe, child: c.child, add });
      }
      this.replicaOps.push({ op: 'edge', stripe: c.stripe, child: c.child, parent: c.to });
    }
    return changes.length > 0;
  }
}
