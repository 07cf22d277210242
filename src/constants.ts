/**
 * @file constants.ts
 * @brief Every tunable and bound of relaytv: meaning, unit, effect, and why this value.
 *
 * Bounds on what a stranger can grow are named here (STYLE rule 9). Durations are defaults:
 * constructors take them as options so tests can shorten them.
 */

/** Control port of the streaming server (PROTOCOL.md: fixed 6060 in the course's server). */
export const SERVER_PORT = 6060;
/** Port every client listens on for pushes and join answers (PROTOCOL.md: fixed 9091). */
export const DATA_PORT = 9091;
/** Default P2P port of a peer (our overlay protocol; convention, so 11C's IPs are enough). */
export const P2P_PORT = 9092;
/** The course's server reads a request once, up to 1024 bytes; we read no more. */
export const MAX_REQUEST_BYTES = 1024;
/** Time a control connection may take to send its request, ms (slow senders are cut). */
export const REQUEST_TIMEOUT_MS = 2_000;
/** Time a control request from a peer to the server may take end to end, ms. */
export const CONTROL_TIMEOUT_MS = 3_000;
/**
 * Largest chunk accepted anywhere, bytes. The course's chunks are 100-425 KB for 2 s; 16 MiB is
 * 64 Mbit/s, far above any 2-second TV chunk, and bounds memory per push.
 */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** Seconds of video per chunk (the course's period; its server sleeps 1.8 s minus the round). */
export const DEFAULT_PERIOD_S = 2;
/** The course's server sleeps this fraction of the period after each round (1.8 s of 2 s). */
export const ROUND_SLEEP_FRACTION = 0.9;
/** Width of the zero-padded sequence number in chunk file names (lexical order = play order). */
export const SEQ_DIGITS = 8;
