/**
 * @file process.ts
 * @brief Child-process helpers shared by the external-player backends.
 */
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { PLAYER_QUIT_TIMEOUT_MS } from '../constants';

/**
 * @brief Connects to a unix socket an external player is about to create, retrying until ready.
 * @param socketPath Socket path given to the player.
 * @param timeoutMs Give up after this long.
 * @param died Resolves (with a reason) if the player dies first; then we give up at once.
 * @return The connected socket.
 */
export async function connectUnix(socketPath: string, timeoutMs: number, died: Promise<string>): Promise<net.Socket> {
  let dead: string | null = null;
  void died.then((reason) => { dead = reason; });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dead !== null) throw new Error(dead);
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const sock = net.connect(socketPath);
        sock.once('connect', () => { sock.removeAllListeners('error'); resolve(sock); });
        sock.once('error', reject);
      });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`timed out: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * @brief Ends a child: waits up to PLAYER_QUIT_TIMEOUT_MS for it to quit (after SIGTERM if
 *        `term`), then SIGKILLs it.
 * @param child The child process.
 * @param term Send SIGTERM first (for players without a quit command).
 * @return Resolves once the child has exited.
 */
export async function stopChild(child: ChildProcess, term = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (term) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), PLAYER_QUIT_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
