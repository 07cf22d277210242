/**
 * @file ecosystem.config.js
 * @brief The embedded demo under PM2: our server and six peers on one machine.
 *
 * `npm start` (bin/demo.js) runs `pm2 start ecosystem.config.js`; `npm stop` removes it.
 * - server `relaytv-server`: 127.0.0.1:6060, 2 channels, 1 direct client per channel (as the
 *   course's server), /metrics on 127.0.0.1:9190;
 * - peers `relaytv-peer-11` .. `relaytv-peer-16` on 127.0.0.11 .. 127.0.0.16: .11-.13 watch
 *   channel 0 (slots 3,2,2), .14-.16 channel 1 (slots 2,3,1); each serves /status and /metrics on
 *   IP:9093 and stores chunks in `<demo dir>/peerNN`.
 * Each peer plays with `--player auto` when a display is available, else `--player null` (shows
 * nothing, deletes each file after its period, as a player would).
 *
 * What PM2 manages: one app per peer, in fork mode. The process PM2 starts is the peer's holder
 * (src/holder): it owns IP:9091 and runs the overlay process as its child, restarting it at once
 * when it dies, so the server's pushes wait in the kernel's backlog and none is refused. PM2
 * restarts the holder (`autorestart`) if the holder itself dies: that one closes 9091 for a
 * moment, which the course's server would see. PM2's cluster mode does not fit: its instances
 * share one port, while a peer's identity is its IP (the server pushes to IP:9091 and peers dial
 * IP:9092), so every peer must be its own app bound to its own address. `wait_ready`: the holder
 * sends `ready` once its overlay process has opened its listeners; `kill_timeout` covers the
 * graceful leave (`12C`, BYE, one more period on 9091).
 *
 * Environment overrides (read when pm2 loads this file; tests use them to avoid fixed ports):
 * - RELAYTV_DEMO_DIR: chunk folders root (default /tmp/relaytv-demo);
 * - RELAYTV_DEMO_PORT_BASE: when set, server = base, metrics = base+1, data = base+2,
 *   p2p = base+3, http = base+4 (default 6060, 9190, 9091, 9092, 9093);
 * - RELAYTV_DEMO_PERIOD: seconds per chunk (default: the server's, 2);
 * - RELAYTV_DEMO_PLAYER: player mode of every peer (default auto/null as above);
 * - RELAYTV_DEMO_FRAGILE: 0 runs our server's default (a refused push skips, then removes the
 *   client); by default the demo server keeps the course server's rule (`--fragile`: one refused
 *   push stops the channel for good), so the demo shows that a crashed peer never costs it.
 */
'use strict';
const path = require('node:path');

const env = process.env;
const base = env.RELAYTV_DEMO_PORT_BASE ? Number(env.RELAYTV_DEMO_PORT_BASE) : null;
if (base !== null && !(Number.isInteger(base) && base > 0 && base < 65531)) {
  throw new Error(`RELAYTV_DEMO_PORT_BASE must be an integer port below 65531, got '${env.RELAYTV_DEMO_PORT_BASE}'`);
}
/** Ports of the demo (course defaults unless overridden). */
const ports = base === null
  ? { server: 6060, metrics: 9190, data: 9091, p2p: 9092, http: 9093 }
  : { server: base, metrics: base + 1, data: base + 2, p2p: base + 3, http: base + 4 };
const demoDir = path.resolve(env.RELAYTV_DEMO_DIR || '/tmp/relaytv-demo');
const player = env.RELAYTV_DEMO_PLAYER || (env.DISPLAY || env.WAYLAND_DISPLAY ? 'auto' : 'null');
const period = env.RELAYTV_DEMO_PERIOD ? ['--period', env.RELAYTV_DEMO_PERIOD] : [];
const fragile = env.RELAYTV_DEMO_FRAGILE === '0' ? [] : ['--fragile'];

/** The six peers: last IP byte, channel, slots. */
const peers = [
  { n: 11, channel: 0, slots: 3 }, { n: 12, channel: 0, slots: 2 }, { n: 13, channel: 0, slots: 2 },
  { n: 14, channel: 1, slots: 2 }, { n: 15, channel: 1, slots: 3 }, { n: 16, channel: 1, slots: 1 },
];

/** Settings every app shares. */
const common = {
  script: 'dist/src/cli/main.js',
  cwd: __dirname,
  exec_mode: 'fork',
  instances: 1,
  autorestart: true,
  max_restarts: 50,
  restart_delay: 500,
  kill_timeout: 6000,
  merge_logs: true,
  time: false,
  env: { RELAYTV_LOG: env.RELAYTV_LOG || 'info' },
};

module.exports = {
  /** Read by bin/demo.js (names, ports) so the printed hints match what runs. */
  demo: { ports, demoDir, player, peers },
  apps: [
    {
      ...common,
      name: 'relaytv-server',
      args: ['server', '--host', '127.0.0.1', '--port', String(ports.server), '--data-port', String(ports.data),
        '--channels', '2', '--max-clients', '1', '--metrics-port', String(ports.metrics), ...period, ...fragile],
    },
    ...peers.map((p) => ({
      ...common,
      name: `relaytv-peer-${p.n}`,
      wait_ready: true,
      listen_timeout: 10000,
      args: ['peer', '--ip', `127.0.0.${p.n}`, '--server', `127.0.0.1:${ports.server}`, '--channel', String(p.channel),
        '--slots', String(p.slots), '--dir', path.join(demoDir, `peer${p.n}`), '--data-port', String(ports.data),
        '--p2p-port', String(ports.p2p), '--http-port', String(ports.http), '--player', player, '--no-tui'],
    })),
  ],
};
