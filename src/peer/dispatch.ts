/**
 * @file dispatch.ts
 * @brief The message table: for every P2P message, who may send it and which part handles it.
 *
 * Each row has a `may` rule, judged against the sender (an id bound to its connection) and our
 * roles: 'ok' hands the message to the part, 'late' drops it quietly (a benign race: a chunk
 * from the parent we just left, a REFUSED for a stripe we moved), 'violation' logs
 * NOT_AUTHORIZED, closes the connection and changes no state. Every message is counted per type
 * in the ledger. Rows (sender -> us):
 * - JOIN: anyone (the coordinator answers, a member redirects). REDIRECT: the peer we JOINed.
 * - UPDATE: our coordinator, the peer we JOINed, or a successor our view names taking over (the
 *   answer of a peer we JOINed lately but stopped waiting for: dropped; we ask again).
 * - REPLICA: our coordinator. RESYNC, SUSPECT: a member, to the coordinator.
 * - PING: a member we deal with (coordinator: any member). HEARTBEAT, FETCH, BYE: the same,
 *   dropped quietly otherwise (a child's heartbeat may come before our UPDATE names it; an
 *   unanswered FETCH makes the fetcher ask the next holder).
 * - SUBSCRIBE: anyone (the relay serves only children the view names; others are held, refused).
 * - SUBSCRIBED, REFUSED: the parent we subscribed to; UNSUBSCRIBE: a child.
 * - CHUNK: our parent in its stripe or the holder we asked, inside the live window (from a member
 *   in a transition, a former parent: dropped, never stored).
 * - MISSING, PONG: the peer we asked. HELLO, AUTH: never after the handshake.
 */
import type { Session } from './session';
import type { Ledger } from './stats';
import type { Logger } from '../log';
import { Ledger as L } from './stats';
import type { Msg, MsgName, PeerMessage } from '../protocol/peer';

/** A rule's verdict. */
export type Verdict = 'ok' | 'late' | 'violation';

/** What the table asks of the peer's parts. */
export interface DispatchContext {
  /** The ledger. */
  stats: Ledger;
  /** Logger. */
  log: Logger;
  /** Whether we hold the coordinator role. */
  coordinating(): boolean;
  /** Whether `id` is our current coordinator. */
  isCoordinator(id: string): boolean;
  /** Whether `id` is a member we deal with (coordinator: any member; member: our view). */
  knows(id: string): boolean;
  /** Whether a JOIN to `id` waits for its answer. */
  joining(id: string): boolean;
  /** Whether we sent `id` a JOIN lately (its late answer is dropped, not a violation). */
  askedLately(id: string): boolean;
  /** Whether `id` is a successor our view names. */
  isSuccessor(id: string): boolean;
  /** Whether `id` is our parent in stripe `s` (or the peer we subscribed to there). */
  isParent(id: string, s: number): boolean;
  /** Whether `id` is our child in stripe `s`. */
  isChild(id: string, s: number): boolean;
  /** CHUNK authority: 'ok' (parent, asked holder), 'late' (former parent), 'violation'. */
  chunkFrom(id: string, seq: number): Verdict;
  /** Whether `seq` is inside the window near the live edge. */
  inWindow(seq: number): boolean;
  /** Whether we asked `id` for `seq` (FETCH) or pinged it. */
  asked(id: string, seq: number): boolean;
  /** The handlers, one per message. */
  handle: { [T in MsgName]?: (s: Session, m: Msg<T>) => void };
}

/** One row: who may send it. */
type Rule<T extends MsgName> = (c: DispatchContext, s: Session, m: Msg<T>) => Verdict;

const member = (c: DispatchContext, s: Session): Verdict => (c.knows(s.id) ? 'ok' : 'violation');

/** The table. */
export const RULES: { [T in MsgName]: Rule<T> } = {
  hello: () => 'violation',
  auth: () => 'violation',
  join: () => 'ok',
  redirect: (c, s) => (c.joining(s.id) ? 'ok' : 'late'),
  update: (c, s, m) => (c.joining(s.id) || c.isCoordinator(s.id) || (c.isSuccessor(s.id) && m.coordinator.id === s.id) ? 'ok'
    : c.askedLately(s.id) ? 'late' : 'violation'),
  replica: (c, s) => (c.isCoordinator(s.id) ? 'ok' : 'violation'),
  resync: (c, s) => (c.coordinating() ? member(c, s) : 'late'),
  heartbeat: (c, s) => (c.knows(s.id) ? 'ok' : 'late'),
  subscribe: () => 'ok',
  subscribed: (c, s, m) => (c.isParent(s.id, m.stripe) ? 'ok' : 'late'),
  refused: (c, s, m) => (c.isParent(s.id, m.stripe) ? 'ok' : 'late'),
  unsubscribe: (c, s, m) => (c.isChild(s.id, m.stripe) ? 'ok' : 'late'),
  chunk: (c, s, m) => {
    const v = c.chunkFrom(s.id, m.seq);
    return v === 'ok' && !c.inWindow(m.seq) ? 'violation' : v;
  },
  fetch: (c, s) => (c.knows(s.id) ? 'ok' : 'late'),
  missing: (c, s, m) => (c.asked(s.id, m.seq) ? 'ok' : 'late'),
  suspect: (c, s) => (c.coordinating() ? member(c, s) : 'late'),
  bye: (c, s) => (c.knows(s.id) ? 'ok' : 'late'),
  ping: member,
  pong: () => 'ok',
};

/**
 * @brief Judges and hands on one message.
 * @param c The parts. @param s The sender's session. @param m The message.
 */
export function dispatch(c: DispatchContext, s: Session, m: PeerMessage): void {
  L.bump(c.stats.rx, m.type);
  const verdict = (RULES[m.type] as Rule<MsgName>)(c, s, m as never);
  if (verdict === 'late') return void L.bump(c.stats.ignored, m.type);
  if (verdict === 'violation') {
    L.bump(c.stats.refused, m.type);
    c.log.warn({ code: 'NOT_AUTHORIZED', type: m.type, from: s.id, ...(m.type === 'chunk' ? { seq: m.seq } : {}) }, 'message from a peer that may not send it: connection closed');
    return s.close('NOT_AUTHORIZED');
  }
  (c.handle[m.type] as ((s: Session, m: PeerMessage) => void) | undefined)?.(s, m);
}
