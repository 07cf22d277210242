/**
 * @file heldPushes.ts
 * @brief The push port of an overlay process started by its holder: connections arrive over IPC.
 *
 * The holder (src/holder/holder.ts) owns IP:9091 and hands each connection it accepted to us with
 * its accept time; we tell it `ready` once we take them, and it hands over what it kept while we
 * were (re)starting, in order.
 */
import type { Socket } from 'node:net';
import type { PushPort } from './serverLink';
import { isHeldPush, OverlayReady } from '../holder/messages';

/** @brief The push port fed by the holder over this process's IPC channel. */
export function heldPushPort(): PushPort {
  let listener: ((m: unknown, handle: unknown) => void) | null = null;
  return {
    async start(onPush) {
      listener = (m, handle) => {
        if (!isHeldPush(m) || !handle) return;
        const sock = handle as Socket;
        onPush(sock, m.remoteAddress, m.acceptedMs);
      };
      process.on('message', listener);
      const ready: OverlayReady = { kind: 'ready' };
      process.send?.(ready);
    },
    async close() {
      if (listener) process.off('message', listener);
    },
  };
}
