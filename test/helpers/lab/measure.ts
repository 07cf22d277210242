/**
 * @file measure.ts
 * @brief What a fault did, measured from the outside: detection from the peers' logs, repair
 * from their chunk folders. Logged, never asserted (tests assert behaviour, not timing).
 *
 * - Progress: every `everyMs` each host's folder is read; its *head* is the highest sequence
 *   up to which it holds every chunk since its join point, the *live point* the highest
 *   sequence any host holds. A host more than `LAG_OUT` chunks behind the live point is
 *   interrupted; an outage is such an interval.
 * - detection = fault -> the first log line of a neighbour saying it noticed (a session to the
 *   victim closed, its parent too slow, the coordinator lost, a chunk given up).
 * - repair = fault -> the end of the last outage it caused on any other host (0: nobody
 *   was interrupted: the overlay or TCP absorbed it), with the total outage time and the
 *   largest lag (a fault that lasts, like loss, can cause short outages late in its course);
 *   catch-up = heal -> the end of the victim's own outage (a host hung, down or crashed).
 */
import { promises as fs } from 'node:fs';
import type { Lab, Host } from './lab';
import type { ActiveFault } from './faults';

/** A host is interrupted when its head is more than this many chunks behind the live point. */
export const LAG_OUT = 2;

/** One interval of interruption, epoch ms (`to` null while it lasts). */
export interface Outage { from: number; to: number | null; maxLag: number }

/** Per-host state of the progress monitor. */
interface Track { have: Set<number>; head: number; joined: boolean; outages: Outage[] }

/** Follows the head of every host's folder against the live point. */
export class Progress {
  private readonly tracks = new Map<number, Track>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  /** Highest sequence any host holds. */
  live = -1;

  /** @param lab The lab. @param everyMs Sampling period. */
  constructor(private readonly lab: Lab, private readonly everyMs = 100) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** @brief Host k (re)joined at `firstSeq`: its head restarts there (the downtime is no outage of it). */
  rejoined(k: number, firstSeq: number): void {
    const tr = this.track(k);
    tr.head = Math.max(tr.head, firstSeq - 1);
    this.advance(tr);
  }

  /** @brief The outages of host k. */
  outages(k: number): Outage[] {
    return this.tracks.get(k)?.outages ?? [];
  }

  /** @brief Host k's head: it holds every chunk from its join point up to it (-1 before any). */
  head(k: number): number {
    return this.tracks.get(k)?.head ?? -1;
  }

  /** @brief How far host k's head is behind the live point now. */
  lag(k: number): number {
    const tr = this.tracks.get(k);
    return tr ? this.live - tr.head : Infinity;
  }

  /** @brief Reads every peer host's folder once. */
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = Date.now();
      for (const k of this.lab.peers.keys()) {
        const tr = this.track(k);
        const names = await fs.readdir(this.lab.dir(k)).catch(() => [] as string[]);
        for (const n of names) if (/^\d{8}\.mkv$/.test(n)) tr.have.add(Number(n.slice(0, 8)));
        if (!tr.joined && tr.have.size) { tr.joined = true; tr.head = Math.min(...tr.have) - 1; }
        this.advance(tr);
        for (const s of tr.have) if (s > this.live) this.live = s;
      }
      for (const tr of this.tracks.values()) {
        if (!tr.joined) continue;
        const open = tr.outages.at(-1)?.to === null ? tr.outages.at(-1)! : null;
        const lag = this.live - tr.head;
        if (lag > LAG_OUT && !open) tr.outages.push({ from: now, to: null, maxLag: lag });
        else if (lag > LAG_OUT && open) open.maxLag = Math.max(open.maxLag, lag);
        else if (open) open.to = now;
      }
    } finally {
      this.busy = false;
    }
  }

  private track(k: number): Track {
    let tr = this.tracks.get(k);
    if (!tr) { tr = { have: new Set(), head: -1, joined: false, outages: [] }; this.tracks.set(k, tr); }
    return tr;
  }

  private advance(tr: Track): void {
    while (tr.have.has(tr.head + 1)) tr.head++;
  }
}

/** A log line of a peer that noticed a failure. */
export interface Detection { ms: number; host: string; msg: string; detail: string }

/** Messages of the peer's failure detector and repair (src/peer: peer.ts, upstream.ts). */
const DETECTOR = /session closed|parent too slow|coordinator lost|neighbour leaving|cannot reach parent|chunk lost/;

/** @brief The first line, in [`sinceMs`, `untilMs`], of a host in `who` whose subject is one of `about`. */
export function firstDetection(lab: Lab, sinceMs: number, who: Host[], about: string[], untilMs = Infinity): Detection | null {
  let best: Detection | null = null;
  for (const h of who) {
    for (const line of h.log) {
      if (!line.startsWith('{') || !DETECTOR.test(line)) continue;
      let j: { time: number; msg: string; peer?: string; parent?: string; old?: string; why?: string; seq?: number };
      try { j = JSON.parse(line); } catch { continue; }
      if (j.time < sinceMs || j.time > untilMs || !DETECTOR.test(j.msg)) continue;
      const subject = String(j.peer ?? j.parent ?? j.old ?? '').split(':')[0];
      if (subject && !about.includes(subject)) continue;
      if (!subject && j.msg !== 'chunk lost: no holder had it') continue;
      if (!best || j.time - sinceMs < best.ms) best = { ms: j.time - sinceMs, host: h.ip, msg: j.msg, detail: j.why ?? j.seq?.toString() ?? '' };
    }
  }
  return best;
}

/** The measured figures of one fault. */
export interface FaultFigures {
  kind: string;
  what: string;
  /** Fault -> first neighbour noticing (null: nobody had to notice). */
  detectionMs: number | null;
  detectedBy: string | null;
  /** Fault -> end of the last outage of another host (0: nobody interrupted). */
  repairMs: number | null;
  /** Hosts other than the victim that were interrupted. */
  interrupted: string[];
  /** Sum of those hosts' outage time, ms, and the most chunks one fell behind. */
  interruptedMs: number;
  maxLag: number;
  /** Heal -> end of the victim's own outage (hang, crash, link down), null when it had none. */
  victimCatchUpMs: number | null;
  /** Still interrupted when measured. */
  unrepaired: string[];
}

/**
 * @brief Figures of a healed fault, once the lab settled.
 * @param lab The lab. @param p The progress monitor. @param f The fault (healed).
 */
export function figures(lab: Lab, p: Progress, f: ActiveFault): FaultFigures {
  const victims = new Set([f.host, ...(f.kind === 'partition' ? f.peers : [])]);
  const subjects = [f.host, ...f.peers].map((k) => lab.ip(k));
  // Who may notice: the other end(s) of a cut, or anyone but a victim that was stopped or gone.
  const selfBlind = f.kind === 'hang' || f.kind === 'crash' || f.kind === 'linkdown';
  const who = [...lab.peers].filter(([k]) => !(selfBlind && k === f.host)).map(([, h]) => h);
  const det = firstDetection(lab, f.injectedMs, who, subjects);
  let repairEnd = 0;
  let total = 0;
  let maxLag = 0;
  const interrupted: string[] = [];
  const unrepaired: string[] = [];
  for (const k of lab.peers.keys()) {
    const mine = p.outages(k).filter((o) => (o.to ?? Infinity) > f.injectedMs);
    if (mine.some((o) => o.to === null)) unrepaired.push(lab.ip(k));
    if (victims.has(k) && selfBlind) continue;
    if (!mine.length) continue;
    interrupted.push(lab.ip(k));
    for (const o of mine) {
      repairEnd = Math.max(repairEnd, o.to ?? Infinity);
      total += (o.to ?? Date.now()) - Math.max(o.from, f.injectedMs);
      maxLag = Math.max(maxLag, o.maxLag);
    }
  }
  let catchUp: number | null = null;
  if (selfBlind && f.healedMs) {
    const own = p.outages(f.host).filter((o) => (o.to ?? Infinity) > f.injectedMs);
    const end = Math.max(0, ...own.map((o) => o.to ?? Infinity));
    catchUp = own.length ? Math.max(0, end - f.healedMs) : 0;
  }
  return {
    kind: f.kind, what: f.what,
    detectionMs: det?.ms ?? null, detectedBy: det ? `${det.host}: ${det.msg}${det.detail ? ` (${det.detail})` : ''}` : null,
    repairMs: repairEnd === Infinity ? null : interrupted.length ? repairEnd - f.injectedMs : 0,
    interrupted, interruptedMs: total, maxLag, victimCatchUpMs: catchUp === Infinity ? null : catchUp, unrepaired,
  };
}
