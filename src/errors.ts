/**
 * @file errors.ts
 * @brief Error codes of relaytv: one factory per code, callers branch on `err.code`.
 *
 * A network fault becomes a state transition at the connection boundary; a protocol violation
 * closes the connection citing the rule; anything else (TypeError, ...) is a bug and crashes.
 * Every code is listed with its meaning in docs/errors.md (a test checks it).
 */

/** An error with a stable machine-readable code. */
export class RelayError extends Error {
  /** Stable code, e.g. `BAD_CONTROL_REQUEST`. */
  readonly code: string;
  /**
   * @param code Stable code.
   * @param message Human-readable explanation.
   */
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
    this.name = 'RelayError';
  }
}

/** Every error code and its one-line meaning (mirrored in docs/errors.md). */
export const ERROR_CODES = {
  BAD_CONTROL_REQUEST: 'a request on the server port is not <code:2 digits><channel:1 digit>',
  UNKNOWN_CODE: 'a request code other than 10, 11, 12, 13',
  CHANNEL_OUT_OF_RANGE: 'a request for a channel the server does not have',
  REQUEST_TOO_LARGE: 'a request longer than the server reads at once',
  REQUEST_TIMEOUT: 'a connection that never sent its request in time',
  ANSWER_BACKLOG: 'the server has too many join answers in flight to send one more',
  PUSH_FAILED: 'the server could not deliver a chunk or join answer to a client (refused, reset, timed out)',
  LOCAL_ERROR: "a push that failed on the server's own host (EMFILE, ENOBUFS): no client's fault",
  CHANNEL_STOPPED: 'a fragile server (--fragile, as the course server) stopped a channel after a refused push',
  BAD_SERVER_REPLY: 'a reply from the streaming server that does not parse',
  SERVER_UNREACHABLE: 'the streaming server refused or timed out',
  STRANGER_PUSH: 'a push into the data port from an address that is not the server',
  PUSH_BACKLOG: 'more pushes being read at once than the data port keeps',
  BAD_FRAME: 'a P2P frame that does not decode (truncated, unknown type, bad string, number out of range)',
  BAD_VERSION: 'a P2P peer speaking another protocol version',
  FRAME_TOO_LARGE: 'a P2P frame longer than its message type allows',
  IDENTITY_MISMATCH: 'a HELLO whose id is not the address of its connection (or not the address dialed)',
  CHANNEL_MISMATCH: 'a HELLO from a peer of another channel',
  AUTH_FAILED: 'a peer without the overlay key, or with another one (--overlay-key)',
  CONNECTION_LIMIT: 'more P2P connections from one address than a peer accepts',
  NOT_AUTHORIZED: 'a P2P message from a peer that may not send it (the dispatch table)',
  PEER_TIMEOUT: 'a watched neighbour silent past the heartbeat timeout, or a handshake that never completed',
  CHUNK_REJECTED: "chunk bytes whose SHA-256 or source signature fails",
  CHUNK_TOO_LARGE: 'a push larger than a chunk may be',
  SLOW_RECEIVER: 'a child whose queue stayed full (it stopped reading)',
  OVERLAY_FULL: 'a join beyond the most members an overlay holds',
  DIR_UNWRITABLE: 'the chunk folder cannot be created or written',
  FFMPEG_MISSING: 'ffmpeg is not installed or not on PATH',
  FILM_UNREADABLE: 'the film given to split cannot be read by ffmpeg',
  BAD_OPTION: 'a command-line option with an invalid value',
  DIR_MISSING: 'the chunk folder given to the player does not exist or is not a folder',
  BACKEND_MISSING: 'the requested external player (mpv, cvlc, ffplay) is not installed or not on PATH',
  BACKEND_FAILED: 'the external player could not be started or kept crashing',
} as const;

/** A known error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * @brief Creates a coded error.
 * @param code One of ERROR_CODES.
 * @param detail What exactly went wrong.
 */
export function relayError(code: ErrorCode, detail: string): RelayError {
  return new RelayError(code, detail);
}
