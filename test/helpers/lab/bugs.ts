/**
 * @file bugs.ts
 * @brief Product bugs the lab's kernel faults reveal. src/ is another engineer's to fix: the
 * tests that show a bug are marked `todo` with the text below, and the chaos test leaves the
 * fault out, until the peer is fixed; then drop the `todo` and put the fault back.
 */

/** Known bugs, by short name: the text is the `todo` reason. */
export const BUGS = {
  /** A peer that loses its coordinator session while the coordinator lives takes the role: two overlays. */
  splitBrainTakeover: 'product bug (split brain): a peer that loses its session to the coordinator for longer than the '
    + 'heartbeat timeout while the coordinator is alive (its link down, or a partition between it and the coordinator only) '
    + 'declares the coordinator lost; joinVia(old) fails (at once without a route, after CONTROL_TIMEOUT_MS when packets are '
    + 'dropped), walking the successor list it reaches itself and takes the coordinator role (takeover) without the server '
    + "slot; after the heal it asks 10C forever ('00': the slot is held), never rejoins the real overlay and never receives "
    + 'again (src/peer/peer.ts coordinatorFailed, askForSlot; abdicate only looks at its own members)',
  /** A throttled uplink is invisible to the slow-parent detector. */
  slowLinkUnseen: "product bug: the slow-parent check compares the parent's maxSeq from its HEARTBEATs with what the child "
    + 'received, but heartbeats travel in the same TCP stream behind the chunk bytes, so a child sees them only after the '
    + 'chunks they describe: a throttled parent never looks slow, its children stay 3-8 chunks behind for as long as the '
    + 'throttle lasts and never move away (src/peer/upstream.ts checkLag)',
} as const;
