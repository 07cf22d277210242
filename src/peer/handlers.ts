/**
 * @file handlers.ts
 * @brief The dispatch context: what the table's rules ask of the parts, and one short handler
 * per message that hands it to the part that owns it; and what the peer does with its store's
 * events.
 */
import type { DispatchContext } from './dispatch';
import type { Parts } from './options';
import type { Roles } from './roles';
import { SuspectReason } from '../protocol/peer';
import type { StoredChunk } from './store';
import { BUFFER_CHUNKS, KEY_SETTLE_MS, LIVE_WINDOW_CHUNKS, MAX_SEQ } from '../constants';

/**
 * @brief Builds the dispatch context of a peer.
 * @param p The parts. @param roles The role controller.
 */
export function dispatchContext(p: Parts, roles: Roles): DispatchContext {
  const coordinating = (): boolean => roles.role === 'coordinator';
  const known = (id: string): boolean => (coordinating() ? p.coordinator.isMember(id) : p.view.knows(id) || p.replica.has(id)) || p.relay.isChildAnywhere(id);
  return {
    stats: p.stats,
    log: p.log,
    coordinating,
    isCoordinator: (id) => !coordinating() && p.view.coordinator?.id === id,
    knows: known,
    joining: (id) => p.join.awaits(id),
    askedLately: (id) => p.join.askedLately(id, Date.now()),
    isSuccessor: (id) => p.view.isSuccessor(id),
    isParent: (id, s) => p.view.isParent(id, s),
    isChild: (id, s) => (coordinating() ? p.coordinator.isRootChild(id, s) : p.view.isChild(id, s)),
    chunkFrom: (id, seq) => (p.upstream.accepts(id, seq) ? 'ok' : p.upstream.wasParent(id) || known(id) ? 'late' : 'violation'),
    inWindow: (seq) => seq <= MAX_SEQ && seq <= Math.max(p.store.maxSeq, p.view.liveSeq) + LIVE_WINDOW_CHUNKS
      && seq >= (p.store.firstSeq ?? 0) - BUFFER_CHUNKS,
    asked: (id, seq) => p.upstream.accepts(id, seq),
    handle: {
      join: (s) => roles.joinRequest(s),
      redirect: (s, m) => p.join.reply(s, m),
      update: (s, m) => (p.join.awaits(s.id) ? p.join.reply(s, m) : roles.update(s, m)),
      replica: (s, m) => roles.replica(s, m),
      resync: (s, m) => p.coordinator.onResync(s.id, m.what),
      subscribe: (s, m) => void p.relay.subscribe(s.id, m.stripe, m.fromSeq),
      subscribed: (s, m) => p.upstream.onSubscribed(s.id, m.stripe),
      refused: (s, m) => p.upstream.onRefused(s.id, m.stripe, m.reason),
      unsubscribe: (s, m) => p.relay.unsubscribe(s.id, m.stripe),
      chunk: (s, m) => {
        p.upstream.onChunk(m.seq);
        void p.store.add(m, s.id, p.keys());
      },
      fetch: (s, m) => p.relay.serveFetch(s.id, m.seq),
      missing: (s, m) => p.upstream.onMissing(s.id, m.seq),
      suspect: (s, m) => p.coordinator.onSuspect(s.id, m.id, m.reason),
      bye: (s, m) => roles.bye(s, m),
      ping: (s, m) => void s.send({ type: 'pong', nonce: m.nonce }),
      pong: (s, m) => p.coordinator.onPong(s.id, m.nonce),
    },
  };
}

/**
 * @brief Reports a member that sent a chunk failing its checks (to the coordinator, or as the coordinator).
 * @param p The parts. @param roles The roles. @param from The sender.
 */
export function reportBadData(p: Parts, roles: Roles, from: string): void {
  if (roles.role === 'coordinator') p.coordinator.onSuspect(p.self.id, from, SuspectReason.BAD_DATA);
  else if (p.view.coordinator) p.connections.get(p.view.coordinator.id)?.send({ type: 'suspect', id: from, reason: SuspectReason.BAD_DATA });
}

/**
 * @brief What the peer does with its store's events: a stored chunk feeds the period estimate
 * and the children; a chunk failing its checks is fetched again and its sender reported (a
 * signature failing right after a source change may be our key arriving late: not reported
 * then); a folder that cannot be written is logged (the chunk is still relayed from memory).
 * @param p The parts. @param roles The roles. @param dir The chunk folder.
 */
export function watchStore(p: Parts, roles: Roles, dir: string): void {
  const { store, log } = p;
  store.on('stored', (c: StoredChunk) => {
    const prev = store.get(c.seq - 1);
    if (prev) p.period.add(c.originMs - prev.originMs);
    p.upstream.onStored(c.seq, c.originMs);
    p.relay.onStored(c);
  });
  store.on('rejected', (seq: number, from: string, why: string) => {
    const settled = why === 'hash' || p.now() - p.view.keySinceMs > KEY_SETTLE_MS;
    log.warn({ code: 'CHUNK_REJECTED', seq, from, failed: why, reported: settled }, 'chunk failed its checks: not stored, fetched again');
    if (from !== 'server' && settled) reportBadData(p, roles, from);
  });
  store.on('diskError', (msg: string) => log.error({ code: 'DIR_UNWRITABLE', dir, err: msg }, 'cannot write chunk; still relaying from memory'));
  store.on('workerError', (seq: number) => log.error({ seq }, 'a chunk worker died twice on one chunk: it will be fetched again'));
}
