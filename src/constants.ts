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
/** Chunks the player waits for before it starts showing (absorbs relay jitter; ~4 s of video). */
export const PLAYER_BUFFER_CHUNKS = 2;
/**
 * Chunks waiting (received, not yet shown, the playing one included) beyond which the player,
 * already at PLAYER_SPEED_MAX, skips the oldest waiting chunk: one chunk per chunk started,
 * never a whole backlog at once. 10 chunks is ~21 s behind live with the course's 2.14 s chunks.
 */
export const PLAYER_MAX_BEHIND = 10;
/**
 * Slowest playback speed (factor of normal). The player never plays slower than normal: that
 * would only take it further from live; arrivals slower than playback show up as stalls.
 */
export const PLAYER_SPEED_MIN = 1.0;
/**
 * Fastest playback speed (factor of normal). The course's server pushes a 2.14 s chunk every
 * 1.8 s, which needs 2.14 / 1.8 = 1.19; 1.25 leaves ~5 % for jitter and per-chunk overhead.
 * mpv (scaletempo2, `--audio-pitch-correction`) and VLC (`--audio-time-stretch`) keep the
 * pitch; ffplay uses `atempo`. Speech stays natural up to about this factor.
 */
export const PLAYER_SPEED_MAX = 1.25;
/**
 * Seconds over which the player plans to drain a backlog above its target (PLAYER_BUFFER_CHUNKS
 * chunks): each extra second waiting adds 1/20 = 0.05 to the speed. Shorter reacts faster but
 * moves the speed in bigger steps from one chunk to the next; longer drifts further from live.
 */
export const PLAYER_CATCHUP_S = 20;
/**
 * Arrivals the player averages to measure the cadence (10 chunks = ~18 s at the course's pace):
 * long enough that one late or bunched chunk barely moves the estimate, short enough to follow
 * a change of source within a few chunks.
 */
export const PLAYER_PACE_WINDOW = 10;
/** Resolution of the playback speed (a change smaller than this is not sent to the player). */
export const PLAYER_SPEED_STEP = 0.01;
/**
 * Time ffprobe may take to read a chunk's duration, ms; past it the nominal `--chunk-seconds`
 * is used (a chunk's header holds its duration: a normal probe takes ~0.1 s).
 */
export const PLAYER_PROBE_TIMEOUT_MS = 5_000;
/** Chunks handed to the external player ahead of time (current + next: enough for no gap). */
export const PLAYER_LOOKAHEAD = 2;
/** Slow folder rescan behind fs.watch, ms (fs.watch can miss events on some filesystems). */
export const PLAYER_POLL_MS = 500;
/** Wait before restarting a dead external player, ms (avoids a hot crash loop). */
export const PLAYER_RESTART_DELAY_MS = 300;
/** The peer's player process that lived this long before dying is restarted after PLAYER_RESTART_DELAY_MS again, ms. */
export const PLAYER_STABLE_MS = 10_000;
/** Longest wait before the peer restarts its player process (doubled per quick death up to this), ms. */
export const PLAYER_RESTART_MAX_MS = 30_000;
/** Restarts in a row without a chunk shown before the player gives up (BACKEND_FAILED). */
export const PLAYER_MAX_FAILED_RESTARTS = 5;
/** Time an external player may take to open its control socket, ms. */
export const PLAYER_START_TIMEOUT_MS = 10_000;
/** Time an external player may take to quit when asked before it is killed, ms. */
export const PLAYER_QUIT_TIMEOUT_MS = 2_000;

/**
 * Stripes K of a new overlay when `--stripes` is not given: the founder's slots, at most
 * AUTO_STRIPES_MAX. With K stripes every member uploads K edges of 1/K stream, one stream, its
 * fair share, and the trees have fan-out K (log_K N deep); K above the slots would leave members
 * unable to take their share.
 */
export const AUTO_STRIPES = 'auto';
/**
 * Most stripes `auto` picks. Beyond 4, a stripe holds fewer than one level of home members at
 * the sizes an overlay runs (N < K^2) and borrows edges from other stripes' leaves, which deepens
 * it (measured on the forest: 8 stripes at 20-60 members, one level more than 4 stripes).
 */
export const AUTO_STRIPES_MAX = 4;
/** Most stripes of a forest (u8 on the wire; one parent connection per stripe). */
export const MAX_STRIPES = 8;
/** Most slots a peer may declare (restriction 3; u16 on the wire, bounded for the per-member lists). */
export const MAX_SLOTS = 64;
/** Most members of one overlay (the coordinator's membership is bounded by it). */
export const MAX_MEMBERS = 131_072;
/**
 * Most operations in one REPLICA frame. A copy larger than this (a full one of a big overlay)
 * goes as several frames of one epoch: the first names the epoch it follows (or is full), the
 * others follow that same epoch. 32 768 operations of at most 83 bytes (an edge between two
 * IPv6 ids) stay under the frame bound of 4 MiB.
 */
export const REPLICA_PAGE_OPS = 32_768;
/** Successors the coordinator keeps a full replica on (any of them can take the role over). */
export const SUCCESSORS = 3;
/** Most successors named in an UPDATE (u8 on the wire). */
export const MAX_SUCCESSORS = 8;
/** Largest sequence number: chunk file names have SEQ_DIGITS digits (10^8 chunks = 6 years at 2 s). */
export const MAX_SEQ = 10 ** SEQ_DIGITS - 1;
/**
 * A chunk whose sequence is this many chunks beyond the newest one we know of (ours, or the
 * coordinator's live edge) is refused before anything else is done with it: a far-future
 * number must not make the relay walk empty slots or name files nobody plays.
 */
export const LIVE_WINDOW_CHUNKS = 64;

/** Period of the peer's one timer, ms: heartbeats due, silence checks, retries, repair scans. */
export const TICK_MS = 100;
/** A watched link (parent, child, coordinator-successor) quiet for this long gets a HEARTBEAT, ms. */
export const HEARTBEAT_MS = 200;
/**
 * Silence after which a watched neighbour is declared dead, ms. With HEARTBEAT_MS and TICK_MS a
 * silent (hung or cut) neighbour is noticed within timeout + tick = 0.8 s, inside the 1 s bound;
 * 3.5 heartbeats of margin keep a busy machine from false suspicions (a tick that comes late
 * because our own loop stalled judges nobody).
 */
export const HEARTBEAT_TIMEOUT_MS = 700;
/** After a neighbour's silence, a member watches its link to the coordinator this long (is our own link the silent one?), ms. */
export const COORDINATOR_PROBE_MS = 5_000;
/** Time a connection may take to complete both HELLOs (and AUTH with an overlay key), ms. */
export const HELLO_TIMEOUT_MS = 2_000;
/** Time a P2P dial may take, ms. */
export const DIAL_TIMEOUT_MS = 2_000;
/** Time the coordinator waits for a PONG before a suspect is declared dead, ms. */
export const PING_TIMEOUT_MS = 500;
/** Chunks each peer keeps in memory to serve re-subscriptions and repairs (60 s at 2 s). */
export const BUFFER_CHUNKS = 30;
/** Time a peer waits for the server's `10`/`00` answer on the data port, ms. */
export const JOIN_ANSWER_TIMEOUT_MS = 3_000;
/** How often a coordinator without a server slot asks for one (`10C`) and reads `11C`, ms. */
export const SLOT_RETRY_MS = 500;
/** How often a coordinator with the slot reads `11C` (who else is direct: succession order), ms. */
export const LIST_POLL_MS = 5_000;
/** How often the coordinator moves one leaf from the most loaded member to the least loaded, ms. */
export const REBALANCE_MS = 2_000;
/** Time constant of a member's load average (edges held), ms: the rotation evens it out. */
export const LOAD_TAU_MS = 20_000;
/** A missing chunk is fetched again from the next holder after this, ms. */
export const FETCH_RETRY_MS = 300;
/** Fetch attempts (different holders) before a missing chunk is counted lost. */
export const FETCH_TRIES = 8;
/** FETCHes a peer answers with a chunk per second to one member (beyond: MISSING, ask another holder). */
export const FETCH_PER_PEER_PER_S = 8;
/** FETCHes a peer answers with a chunk per second in all. */
export const FETCH_PER_S = 32;
/** Time a new coordinator waits for members to reconnect before dropping them, ms. */
export const COORDINATOR_GRACE_MS = 3_000;
/** A subscription refused for lack of slots is retried after this, ms. */
export const SUBSCRIBE_RETRY_MS = 150;
/** A parent holds a SUBSCRIBE from a member its view does not name yet (views travel apart) this long, ms. */
export const SUBSCRIBE_HOLD_MS = 1_500;
/** Least time between two publications of the coordinator (changes of one window share them), ms. */
export const PUBLISH_MIN_MS = 50;
/** Default HTTP port of a peer's /status and /metrics (bound to the peer's own IP). */
export const HTTP_PORT = 9093;
/** Most simultaneous connections on a peer's P2P port (a flood is refused beyond it). */
export const MAX_P2P_CONNECTIONS = 256;
/** Most simultaneous P2P connections from one IP (a member needs one; races make two). */
export const MAX_CONNECTIONS_PER_IP = 4;
/**
 * Bytes queued towards one child beyond which chunks for it are skipped (it repairs them by
 * FETCH): a child that stops reading must not grow our memory. 2 MiB is ~8 course chunks.
 */
export const SEND_QUEUE_BYTES = 2 * 1024 * 1024;
/**
 * How long chunks from a former parent or a holder we fetched from are taken as late (dropped
 * quietly), not as a violation (the connection closed), ms. Longer than a full send queue takes
 * on a throttled link: SEND_QUEUE_BYTES at 1 Mbit/s is 17 s.
 */
export const LATE_CHUNK_MS = 30_000;
/** A child whose queue stays over SEND_QUEUE_BYTES this long is dropped (SLOW_RECEIVER), ms. */
export const SLOW_RECEIVER_MS = 5_000;
/** A restarted peer looks for its previous overlay only if it left it less than this ago, ms. */
export const STATE_MAX_AGE_MS = 5 * 60_000;
/** Server pushes a direct member keeps while not the source, to take the role over losslessly. */
export const RECENT_PUSHES = 8;
/** A source that got no push for this many periods asks the server for its slot again. */
export const SILENT_SERVER_PERIODS = 4;
/** Most pushes waiting in the data port's commit queue (read in parallel, handed on in order). */
export const MAX_PUSH_CONNECTIONS = 64;
/** A parent that holds this many chunks of a stripe it has not delivered to us yet is slow. */
export const LAG_CHUNKS = 2;
/** ... for this many periods before the child asks to be moved (no flapping on one late chunk). */
export const LAG_PERIODS = 2;
/** The transit-time baseline (least push-to-store time of a chunk) is the least over one to two of these windows, ms. */
export const TRANSIT_WINDOW_MS = 60_000;
/** A member reported for bad data or slowness is kept out of interior positions this long, ms. */
export const DEMOTE_MS = 60_000;
/** A chunk failing a source key younger than this is not blamed on its relay (the UPDATE may trail it), ms. */
export const KEY_SETTLE_MS = 2_000;
/** An edge a child reported broken is not used again for this long, ms. */
export const AVOID_EDGE_MS = 10_000;
/** The holder restarts a dead overlay process after this, ms (doubled while it keeps dying). */
export const HOLDER_RESTART_MS = 100;
/** Longest wait between two restarts of a crash-looping overlay process, ms. */
export const HOLDER_RESTART_MAX_MS = 5_000;
/** Pushes the holder keeps for an overlay process that is (re)starting; beyond, the oldest is drained. */
export const HOLDER_QUEUE = 64;
