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
/** Restarts in a row without a chunk shown before the player gives up (BACKEND_FAILED). */
export const PLAYER_MAX_FAILED_RESTARTS = 5;
/** Time an external player may take to open its control socket, ms. */
export const PLAYER_START_TIMEOUT_MS = 10_000;
/** Time an external player may take to quit when asked before it is killed, ms. */
export const PLAYER_QUIT_TIMEOUT_MS = 2_000;

/** Number of stripes K: chunk `seq` travels in stripe `seq mod K` (SplitStream). */
export const DEFAULT_STRIPES = 2;
/** A connection quiet for this long gets a HEARTBEAT, ms. */
export const HEARTBEAT_MS = 500;
/** Period of the peer's one timer, ms: heartbeats due, silence checks, retries, repair scans. */
export const TICK_MS = 250;
/** Silence after which a neighbour is declared dead, ms (a closed socket is detected at once). */
export const HEARTBEAT_TIMEOUT_MS = 2_000;
/** Chunks each peer keeps in memory to serve re-subscriptions and repairs (60 s at 2 s). */
export const BUFFER_CHUNKS = 30;
/** Time a peer waits for the server's `10`/`00` answer on the data port, ms. */
export const JOIN_ANSWER_TIMEOUT_MS = 3_000;
/** How often a coordinator without a server slot asks for one (`10C`), ms. */
export const SLOT_RETRY_MS = 500;
/** How often the coordinator rotates one leaf per stripe for balance, ms. */
export const REBALANCE_MS = 4_000;
/** A missing chunk is fetched after a later chunk of its stripe arrived, at most this often, ms. */
export const FETCH_RETRY_MS = 400;
/** Fetch attempts (different holders) before a missing chunk is counted lost. */
export const FETCH_TRIES = 6;
/** Time a new coordinator waits for members to reconnect before dropping them, ms. */
export const COORDINATOR_GRACE_MS = 3_000;
/** A subscription refused for lack of slots is retried after this, ms. */
export const SUBSCRIBE_RETRY_MS = 150;
/** Default HTTP port of a peer's /status and /metrics (bound to the peer's own IP). */
export const HTTP_PORT = 9093;
/** Most simultaneous connections on a peer's P2P port (a flood is refused beyond it). */
export const MAX_P2P_CONNECTIONS = 256;
/** A restarted peer looks for its previous overlay only if it left it less than this ago, ms. */
export const STATE_MAX_AGE_MS = 5 * 60_000;
/** Server pushes a direct member keeps while not the source, to take the role over losslessly. */
export const RECENT_PUSHES = 8;
/** A source that got no push for this many periods asks the server for its slot again. */
export const SILENT_SERVER_PERIODS = 4;
/** Most simultaneous connections on the data port (the server opens one per push). */
export const MAX_PUSH_CONNECTIONS = 64;
/** A parent that holds this many chunks of a stripe it has not delivered to us yet is slow. */
export const LAG_CHUNKS = 3;
/** ... for this many periods before the child asks to be moved (no flapping on one late chunk). */
export const LAG_PERIODS = 2;
/**
 * Fault injection for tests (environment RELAYTV_FAULT_RELAY_DELAY_MS): every chunk this peer
 * sends (relayed or fetched) leaves that much later, making it a slow peer. 0 (unset) in normal use.
 */
export const FAULT_RELAY_DELAY_MS = Number(process.env.RELAYTV_FAULT_RELAY_DELAY_MS ?? 0) || 0;
/** Least time between two VIEW publications, ms (a wave of joins is sent as one view). */
export const PUBLISH_MIN_MS = 250;
/** Least time between two saves of a peer's state file, ms. */
export const STATE_SAVE_MS = 2_000;
/**
 * Fault injection for tests (environment RELAYTV_FAULT_PARTITION, comma-separated peer ids):
 * sessions with these peers go silent both ways after HELLO, as across a network partition
 * that drops packets. Empty in normal use.
 */
export const FAULT_PARTITION = new Set((process.env.RELAYTV_FAULT_PARTITION ?? '').split(',').filter(Boolean));
