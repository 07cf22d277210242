/**
 * @file server.ts
 * @brief `relaytv server`: runs the course-compatible streaming server.
 *
 * Example: `relaytv server --port 6060 --channels 2 --channel-content 1=./film-chunks`.
 * Without --content the embedded sample (assets/sample) is played on every channel.
 */
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { Command } from 'commander';
import { createLogger } from '../log';
import { createMetrics } from '../metrics/index';
import { relayError } from '../errors';
import { intOption, secondsOption } from './options';
import { SERVER_PORT, DATA_PORT, DEFAULT_PERIOD_S } from '../constants';
import { StreamServer } from '../server/server';
import { serveReadOnly, metricsRoute } from '../http/readonly';

/**
 * @brief The embedded sample folder, found from the package root (works from src/ and dist/src/).
 * @return Absolute path of assets/sample.
 */
export function defaultContentDir(): string {
  const candidates = [path.join(__dirname, '../../../assets/sample'), path.join(__dirname, '../../assets/sample')];
  return candidates.find((d) => fs.existsSync(d)) ?? candidates[0];
}

/** @brief Collects repeatable `--channel-content C=DIR`. @param v Option text. @param acc So far. */
function channelContentOption(v: string, acc: Map<number, string>): Map<number, string> {
  const m = /^(\d)=(.+)$/.exec(v);
  if (!m) throw relayError('BAD_OPTION', `--channel-content must be C=DIR with C one digit, got '${v}'`);
  acc.set(Number(m[1]), path.resolve(m[2]));
  return acc;
}

/** Parsed flags of `relaytv server`. */
interface ServerFlags {
  /** --host: control listen address. */
  host: string;
  /** --port: control port. */
  port: number;
  /** --data-port: port clients listen on. */
  dataPort: number;
  /** --channels: number of channels. */
  channels: number;
  /** --max-clients: direct clients per channel. */
  maxClients: number;
  /** --period: chunk period, seconds. */
  period: number;
  /** --content: folder for every channel. */
  content?: string;
  /** --channel-content: folder per channel. */
  channelContent: Map<number, string>;
  /** --metrics-port: port of GET /metrics. */
  metricsPort?: number;
  /** --fragile: the course server's fault behaviour (one refused push stops a channel for good). */
  fragile?: boolean;
}

/** @brief Registers `relaytv server`. @param program The root command. */
export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run the streaming server (wire-identical to the course server)')
    .option('--host <addr>', 'control listen address', '0.0.0.0')
    .option('--port <n>', 'control port', intOption('--port', 0, 65535), SERVER_PORT)
    .option('--data-port <n>', 'port clients listen on for pushes', intOption('--data-port', 1, 65535), DATA_PORT)
    .option('--channels <n>', 'number of channels (1..10)', intOption('--channels', 1, 10), 2)
    .option('--max-clients <n>', 'direct clients per channel', intOption('--max-clients', 0, 100000), 1)
    .option('--period <s>', 'chunk period in seconds', secondsOption('--period'), DEFAULT_PERIOD_S)
    .option('--content <dir>', 'folder of <name>_NNNNN.mkv chunks for every channel (default: embedded sample)')
    .option('--channel-content <c=dir>', 'folder for one channel (repeatable)', channelContentOption, new Map<number, string>())
    .option('--metrics-port <n>', 'serve GET /metrics on this port', intOption('--metrics-port', 0, 65535))
    .option('--fragile', "the course server's fault behaviour: one refused push stops that channel for good (tests)")
    .action(async (flags: ServerFlags) => {
      for (const c of flags.channelContent.keys()) {
        if (c >= flags.channels) throw relayError('BAD_OPTION', `--channel-content ${c}: only channels 0..${flags.channels - 1}`);
      }
      const base = path.resolve(flags.content ?? defaultContentDir());
      const content = Array.from({ length: flags.channels }, (_, c) => flags.channelContent.get(c) ?? base);
      const log = createLogger('server');
      const metrics = createMetrics();
      const server = new StreamServer({
        host: flags.host, port: flags.port, dataPort: flags.dataPort, channels: flags.channels,
        maxClients: flags.maxClients, periodS: flags.period, content, log: log.child({ component: 'server' }), metrics, fragile: flags.fragile,
      });
      await server.start();
      let http: http.Server | null = null;
      if (flags.metricsPort !== undefined) http = await serveReadOnly(flags.host, flags.metricsPort, { '/metrics': metricsRoute(metrics.register) });
      const a = server.address();
      process.stdout.write(`relaytv server listening on ${a.host}:${a.port} (${flags.channels} channels, pushes to :${flags.dataPort})` +
        (http ? `, metrics on :${(http.address() as { port: number }).port}/metrics` : '') + '\n');
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        http?.close();
        http?.closeAllConnections();
        server.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
