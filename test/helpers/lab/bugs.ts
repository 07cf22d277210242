/**
 * @file bugs.ts
 * @brief Product bugs the lab's kernel faults reveal. src/ is another engineer's to fix: the
 * tests that show a bug are marked `todo` with the text below, and the chaos test leaves the
 * fault out, until the peer is fixed; then drop the `todo` and put the fault back.
 */

/** Known bugs, by short name: the text is the `todo` reason. */
export const BUGS = {
  /** Link down (or any isolation from every peer) longer than the heartbeat timeout. */
  isolatedTakeover: 'product bug: a host cut off from every peer for more than the heartbeat timeout (its link down) '
    + 'declares the coordinator lost, every joinVia fails at once (no route), it reaches itself in the successor list and '
    + "takes the coordinator role (takeover) without the server slot; after the link is back it asks 10C forever ('00', "
    + 'the slot is held) and never rejoins the real overlay: it never receives again (src/peer/peer.ts coordinatorFailed, askForSlot)',
  /** A throttled uplink is invisible to the slow-parent detector. */
  slowLinkUnseen: "product bug: the slow-parent check compares the parent's maxSeq from its HEARTBEATs with what the child "
    + 'received, but heartbeats travel in the same TCP stream behind the chunk bytes, so a child sees them only after the '
    + 'chunks they describe: a throttled parent never looks slow, its children stay 3-8 chunks behind for as long as the '
    + 'throttle lasts and never move away (src/peer/upstream.ts checkLag)',
} as const;
