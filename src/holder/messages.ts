/**
 * @file messages.ts
 * @brief The IPC between the holder and its overlay process: two message shapes, nothing to parse.
 *
 * holder -> overlay: `{ kind: 'push', acceptedMs, remoteAddress }` with the accepted connection
 * as the handle; overlay -> holder: `{ kind: 'ready' }` once it takes pushes.
 */

/** A push handed over (the connection travels as the IPC handle). */
export interface HeldPush {
  /** Message discriminator. */
  kind: 'push';
  /** When the holder accepted the connection, ms since the epoch. */
  acceptedMs: number;
  /** The address the connection came from. */
  remoteAddress: string;
}

/** The overlay process takes pushes now. */
export interface OverlayReady {
  /** Message discriminator. */
  kind: 'ready';
}

/** @brief Whether an IPC message is a HeldPush. @param m Anything received over IPC. */
export function isHeldPush(m: unknown): m is HeldPush {
  return typeof m === 'object' && m !== null && (m as HeldPush).kind === 'push' && typeof (m as HeldPush).acceptedMs === 'number';
}
