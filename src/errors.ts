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
  BAD_SERVER_REPLY: 'a reply from the streaming server that does not parse',
  SERVER_UNREACHABLE: 'the streaming server refused or timed out',
  BAD_FRAME: 'a P2P frame that does not decode (truncated, wrong type, wrong length)',
  BAD_VERSION: 'a P2P peer speaking another protocol version',
  FRAME_TOO_LARGE: 'a P2P frame longer than the protocol allows',
  CHUNK_HASH_MISMATCH: 'chunk bytes whose SHA-256 differs from the announced one',
  CHUNK_TOO_LARGE: 'a chunk longer than the protocol allows',
  UNEXPECTED_CHUNK: 'a chunk from a peer that is neither our parent for its stripe nor asked for it',
  PEER_TIMEOUT: 'a peer silent past the heartbeat timeout',
  SLOTS_FULL: 'a subscription refused because the peer has no free slot',
  STRANGER_PUSH: 'a push into the data port from an address that is not the server',
  DIR_UNWRITABLE: 'the chunk folder cannot be created or written',
  FFMPEG_MISSING: 'ffmpeg is not installed or not on PATH',
  FILM_UNREADABLE: 'the film given to split cannot be read by ffmpeg',
  BAD_OPTION: 'a command-line option with an invalid value',
  PUSH_FAILED: 'the server could not deliver a chunk or join answer to a client (refused, reset, timed out)',
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
