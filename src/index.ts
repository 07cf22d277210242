/**
 * @file index.ts
 * @brief relaytv as a library (`require('relaytv')`, package.json `main`): the peer, the
 * server, the player, the transports and the helpers a program embedding them needs.
 *
 * How it works: the command line (src/cli) is one user of these; `relaytv swarm` another (many
 * peers in one process). A peer is built from options (src/peer/options.ts), started with
 * `start()`, left with `stop()`; `status()` is its /status document.
 */
export { Peer } from './peer/peer';
export { DEFAULT_TIMINGS } from './peer/options';
export type { PeerOptions, Timings } from './peer/options';
export type { PeerStatus } from './peer/status';
export { createChunkPool } from './peer/pool';
export { StreamServer } from './server/server';
export { Player } from './player/player';
export { tcpTransport } from './transport/tcp';
export { MemoryNetwork } from './transport/memory';
export type { Transport, Connection } from './transport/transport';
export { splitFilm } from './content/split';
export { createLogger, silentLogger } from './log';
export type { Logger } from './log';
export { RelayError, ERROR_CODES } from './errors';
export type { ErrorCode } from './errors';
