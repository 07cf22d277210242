/**
 * @file holder.ts
 * @brief The holder: a small process that owns IP:9091 so the server never meets a closed port.
 *
 * The course's server stops a channel for good after one refused push (PROTOCOL.md). The overlay
 * process can crash; this one must not, so it does as little as possible and reads nothing from
 * the network: it listens on the data port (pushes from any address but the server's are closed
 * at once), stamps each accepted connection with its accept time and hands it, unread, to the
 * overlay process it started (IPC with the socket as the handle). While the overlay process is
 * down (crashed, restarting), connections wait here, in order (at most HOLDER_QUEUE; beyond, the
 * oldest is drained and dropped, never refused), and are handed over once the new one says
 * `ready`. An overlay process that exits 0 left the channel (the quit key): the holder exits
 * too. One that dies otherwise is restarted after HOLDER_RESTART_MS, doubled while it keeps
 * dying at start. SIGINT/SIGTERM are passed on (the overlay leaves gracefully: 12C, BYE, one more
 * period on 9091) and the holder exits with it. A crash of the holder itself closes 9091: that
 * one cannot be hidden from the server.
 */
import net from 'node:net';
import { fork, ChildProcess } from 'node:child_process';
import type { Logger } from '../log';
import type { HeldPush } from './messages';
import { HOLDER_QUEUE, HOLDER_RESTART_MAX_MS, HOLDER_RESTART_MS } from '../constants';

/** Options of the holder. */
export interface HolderOptions {
  /** Address of the data port (the peer's IP). */
  ip: string;
  /** The data port (9091). */
  port: number;
  /** The only address pushes are taken from (the server's). */
  serverIp: string;
  /** Script and arguments of the overlay process. */
  script: string;
  /** Its arguments. */
  args: string[];
  /** Node options for it (tsx under tests). */
  execArgv: string[];
  /** Logger. */
  log: Logger;
}

/**
 * @brief Runs the holder until a signal ends it (or the overlay process cannot start at all).
 * @param o Options.
 * @return Resolves with the exit code to use.
 */
export function runHolder(o: HolderOptions): Promise<number> {
  const waiting: { sock: net.Socket; acceptedMs: number }[] = [];
  let child: ChildProcess | null = null;
  let ready = false;
  let everReady = false;
  let stopping = false;
  let delay = HOLDER_RESTART_MS;
  let startedMs = 0;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (finish = r));

  const handOver = (): void => {
    while (ready && child?.connected && waiting.length) {
      const w = waiting.shift()!;
      const msg: HeldPush = { kind: 'push', acceptedMs: w.acceptedMs, remoteAddress: (w.sock.remoteAddress ?? '').replace(/^::ffff:/, '') };
      child.send(msg, w.sock, (err) => { if (err) w.sock.destroy(); });
    }
  };
  const server = net.createServer({ pauseOnConnect: true }, (sock) => {
    sock.on('error', () => undefined);
    const from = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (from !== o.serverIp) {
      o.log.warn({ code: 'STRANGER_PUSH', from }, 'push from an address that is not the server: closed');
      return void sock.destroy();
    }
    if (waiting.length >= HOLDER_QUEUE) {
      const old = waiting.shift()!;
      old.sock.resume(); // drained and dropped, never reset: the server's send completes
      old.sock.on('end', () => old.sock.destroy());
    }
    waiting.push({ sock, acceptedMs: Date.now() });
    handOver();
  });

  const start = (): void => {
    ready = false;
    startedMs = Date.now();
    const c = fork(o.script, o.args, { execArgv: o.execArgv, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    child = c;
    c.on('message', (m: { kind?: string }) => {
      if (m?.kind !== 'ready') return;
      ready = true;
      delay = HOLDER_RESTART_MS;
      if (!everReady) process.send?.('ready'); // PM2's wait_ready
      everReady = true;
      handOver();
    });
    c.on('exit', (code, signal) => {
      ready = false;
      child = null;
      if (stopping) return void server.close(() => finish(code ?? 0));
      if (code === 0 && signal === null) {
        // It left on its own (the quit key): 12C was sent and a period waited; 9091 may close.
        o.log.info('the overlay process left the channel: the holder closes the data port');
        return void server.close(() => finish(0));
      }
      if (!everReady && code === 2) {
        o.log.error({ code }, 'the overlay process cannot start (bad options): the holder stops');
        return void server.close(() => finish(2));
      }
      o.log.warn({ exitCode: code, signal, restartInMs: delay }, 'overlay process died: restarting it; 9091 stays open');
      setTimeout(start, delay);
      if (Date.now() - startedMs < 2_000) delay = Math.min(delay * 2, HOLDER_RESTART_MAX_MS);
    });
  };

  const stop = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    if (child) child.kill(sig);
    else server.close(() => finish(0));
  };

  server.on('error', (err) => {
    o.log.error({ err: err.message }, 'the data port cannot be opened');
    finish(1);
  });
  server.listen(o.port, o.ip, () => {
    o.log.info({ ip: o.ip, port: o.port }, 'holder owns the data port');
    start();
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // SIGUSR2 crashes a chunk worker of the overlay process (a fault drill, sent to the pid its
  // /status names); one sent to the whole process group must not end the holder.
  process.on('SIGUSR2', () => undefined);
  return done;
}
