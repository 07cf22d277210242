/**
 * @file process.ts
 * @brief Child-process helpers shared by the external-player backends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { PLAYER_QUIT_TIMEOUT_MS, PLAYER_START_TIMEOUT_MS } from '../constants';
import { relayError } from '../errors';
import { tailOf } from './backend';

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

/** A spawned external player and its control socket. */
export interface ControlledChild {
  /** The player process. */
  child: ChildProcess;
  /** Its control socket (mpv JSON IPC, VLC rc), delivering complete lines to `onLine`. */
  sock: net.Socket;
  /** Resolves with a reason when the player exits or fails. */
  died: Promise<string>;
}

/**
 * @brief Spawns an external player that opens a unix control socket, and connects to it.
 * @param name Player name for messages (`mpv`, `vlc`).
 * @param binary Executable.
 * @param args Its arguments (they make it listen on `socketPath`).
 * @param socketPath The control socket.
 * @param onLine Called with each complete line the player writes on the socket.
 * @return The child and the socket; rejects with BACKEND_FAILED (the child killed) when the
 *         socket does not come up in PLAYER_START_TIMEOUT_MS or the player dies first.
 */
export async function spawnControlled(name: string, binary: string, args: string[], socketPath: string,
  onLine: (line: string) => void): Promise<ControlledChild> {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const tail = tailOf(child.stderr);
  const died = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(`${name} exited (code ${code}, signal ${signal}) ${tail()}`));
  });
  let sock: net.Socket;
  try {
    sock = await connectUnix(socketPath, PLAYER_START_TIMEOUT_MS, died);
  } catch (err) {
    await stopChild(child, true);
    throw relayError('BACKEND_FAILED', `${name} did not open its control socket: ${(err as Error).message}`);
  }
  let buffered = '';
  sock.setEncoding('utf8');
  sock.on('data', (text: string) => {
    buffered += text;
    const lines = buffered.split(/\r?\n/);
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line);
  });
  sock.on('error', () => undefined); // the exit handler reports the death
  return { child, sock, died };
}
