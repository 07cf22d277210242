/**
 * @file server.test.ts
 * @brief Tier 3: our streaming server on real loopback sockets, fake clients on 127.0.0.2x.
 *
 * The server listens on 127.0.0.1:<free port> and pushes to <client ip>:19091 (a data port
 * of this file only). Conditions are awaited with give-up bounds, never timed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import pino from 'pino';
import { StreamServer, type StreamServerOptions } from '../../src/server/server';
import { sendControl } from '../../src/server/client';
import { parseList, parseCount, type ControlCode } from '../../src/protocol/control';
import { createMetrics } from '../../src/metrics/index';
import { readOnlyHandler, metricsRoute } from '../../src/http/readonly';
import { defaultContentDir } from '../../src/cli/server';
import { DataPort, makeChunks } from '../helpers/dataport';
import { waitFor } from '../helpers/wait';

const DATA_PORT = 19091;

/** A server, its log lines, its fake clients and temp dir, torn down together. */
interface Net {
  server: StreamServer;
  port: number;
  logs: Array<Record<string, unknown>>;
  clients: DataPort[];
  client(ip: string, mode?: 'read' | 'stall'): Promise<DataPort>;
  req(ip: string, code: ControlCode, channel: number): Promise<Buffer>;
  waitLog(pred: (l: Record<string, unknown>) => boolean, what: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts a server with test defaults on 127.0.0.1:0. */
async function startNet(opts: Partial<StreamServerOptions> & { content: string[] }, tmp?: string): Promise<Net> {
  const logs: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  const server = new StreamServer({
    host: '127.0.0.1', port: 0, dataPort: DATA_PORT, channels: 2, maxClients: 1, periodS: 0.2, log, ...opts,
  });
  await server.start();
  const port = server.address().port;
  const clients: DataPort[] = [];
  const n: Net = {
    server, port, logs, clients,
    async client(ip, mode) {
      const dp = await DataPort.listen({ ip, port: DATA_PORT, mode });
      clients.push(dp);
      return dp;
    },
    req: (ip, code, channel) => sendControl({ host: '127.0.0.1', port, localAddress: ip, code, channel, timeoutMs: 3000 }),
    waitLog: (pred, what) => waitFor(() => logs.some(pred), 10_000, `log: ${what}`),
    async close() {
      await server.close();
      await Promise.all(clients.map((c) => c.close()));
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    },
  };
  return n;
}

/** Calls a request handler without `listen` (inject-style) and collects status, type, body. */
function inject(handler: http.RequestListener, url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve) => {
    const out = { status: 0, type: '', body: '' };
    const res = {
      writeHead(status: number, headers: Record<string, string>) { out.status = status; out.type = headers['content-type']; return res; },
      end(body: string) { out.body = body; resolve(out); return res; },
    };
    handler({ method: 'GET', url } as http.IncomingMessage, res as unknown as http.ServerResponse);
  });
}

/** Index of `chunk` among `files` (-1 if it is none of them). */
const indexOf = (files: Buffer[], chunk: Buffer): number => files.findIndex((f) => f.equals(chunk));

test('every request and its answer on the wire', async () => {
  const { dir } = await makeChunks(3, () => 500);
  const t = await startNet({ content: [dir] }, dir);
  try {
    const a = await t.client('127.0.0.21');
    const answer = a.nextAnswer();
    assert.equal((await t.req('127.0.0.21', 10, 0)).length, 0, '10C: nothing on the request socket');
    assert.equal(await answer, 'ok');
    assert.equal((await t.req('127.0.0.21', 11, 0)).toString(), "['127.0.0.21']");
    assert.equal((await t.req('127.0.0.21', 11, 1)).toString(), '[]');
    assert.equal((await t.req('127.0.0.99', 13, 0)).toString(), '1');
    assert.equal((await t.req('127.0.0.99', 13, 1)).toString(), '0');
    assert.equal((await t.req('127.0.0.21', 12, 0)).length, 0, '12C: nothing');
    assert.equal((await t.req('127.0.0.21', 13, 0)).toString(), '0');
    assert.deepEqual(parseList(await t.req('127.0.0.21', 11, 0)), []);
    assert.ok(t.logs.some((l) => l.msg === 'client joined' && l.ip === '127.0.0.21'));
    assert.ok(t.logs.some((l) => l.msg === 'client left' && l.ip === '127.0.0.21'));
  } finally {
    await t.close();
  }
});

test('pushes are the bare file bytes, one connection each, in order across the wrap', async () => {
  const { dir, files } = await makeChunks(3, (i) => 1000 + 317 * i);
  const metrics = createMetrics();
  const t = await startNet({ content: [dir], metrics }, dir);
  try {
    const a = await t.client('127.0.0.22');
    await t.req('127.0.0.22', 10, 1);
    await a.waitChunks(8);
    const idx = a.chunks.map((c) => indexOf(files, c));
    assert.ok(idx.every((i) => i >= 0), 'every push is exactly one file');
    for (let k = 1; k < idx.length; k++) assert.equal(idx[k], (idx[k - 1] + 1) % 3, `order at ${k}: ${idx}`);
    const res = await inject(readOnlyHandler({ '/metrics': metricsRoute(metrics.register) }), '/metrics');
    assert.equal(res.status, 200);
    assert.equal(res.type, metrics.register.contentType);
    assert.match(res.body, /relaytv_rounds_total\{channel="1"[^}]*\} [1-9]/);
    assert.match(res.body, /relaytv_sent_bytes_total\{peer="127.0.0.22"/);
  } finally {
    await t.close();
  }
});

test('a full channel answers 00; a join moves the IP from its other channel', async () => {
  const { dir } = await makeChunks(2, () => 400);
  const t = await startNet({ content: [dir] }, dir);
  try {
    const a = await t.client('127.0.0.23');
    const b = await t.client('127.0.0.24');
    let ans = a.nextAnswer();
    await t.req('127.0.0.23', 10, 0);
    assert.equal(await ans, 'ok');
    ans = b.nextAnswer();
    await t.req('127.0.0.24', 10, 0);
    assert.equal(await ans, 'full');
    assert.equal((await t.req('127.0.0.24', 11, 0)).toString(), "['127.0.0.23']");
    ans = a.nextAnswer();
    await t.req('127.0.0.23', 10, 0);
    assert.equal(await ans, 'ok', 'rejoining its own channel frees its slot first');
    ans = a.nextAnswer();
    await t.req('127.0.0.23', 10, 1);
    assert.equal(await ans, 'ok');
    assert.equal((await t.req('127.0.0.23', 11, 0)).toString(), '[]');
    assert.equal((await t.req('127.0.0.23', 11, 1)).toString(), "['127.0.0.23']");
    ans = b.nextAnswer();
    await t.req('127.0.0.24', 10, 0);
    assert.equal(await ans, 'ok');
  } finally {
    await t.close();
  }
});

test('a client whose port is closed is skipped, then removed; others keep receiving', async () => {
  const { dir, files } = await makeChunks(4, (i) => 800 + i);
  const t = await startNet({ content: [dir], maxClients: 2 }, dir);
  try {
    const a = await t.client('127.0.0.25');
    const dead = await DataPort.listen({ ip: '127.0.0.26', port: DATA_PORT });
    await t.req('127.0.0.25', 10, 0);
    const ans = dead.nextAnswer();
    await t.req('127.0.0.26', 10, 0);
    assert.equal(await ans, 'ok');
    await dead.close();
    await t.waitLog((l) => l.msg === 'push failed, client skipped' && l.ip === '127.0.0.26' && l.code === 'PUSH_FAILED', 'skip');
    await t.waitLog((l) => l.msg === 'client removed after two failed pushes' && l.ip === '127.0.0.26', 'removal');
    assert.equal((await t.req('127.0.0.25', 11, 0)).toString(), "['127.0.0.25']");
    const seen = a.chunks.length;
    await a.waitChunks(seen + 3);
    assert.ok(a.chunks.every((c) => indexOf(files, c) >= 0));
  } finally {
    await t.close();
  }
});

test('a slow client (accepts, never reads) does not stall the others and is removed', async () => {
  // 6 MB chunks: more than loopback socket buffers hold, so a push to a non-reader never ends.
  const { dir, files } = await makeChunks(2, (i) => 6 * 1024 * 1024 + i);
  const t = await startNet({ content: [dir], maxClients: 2, periodS: 0.5 }, dir);
  try {
    const a = await t.client('127.0.0.27');
    const slow = await t.client('127.0.0.28', 'stall');
    await t.req('127.0.0.28', 10, 0);
    await t.req('127.0.0.27', 10, 0);
    await t.waitLog((l) => l.msg === 'client removed after two failed pushes' && l.ip === '127.0.0.28', 'slow client removed');
    assert.ok(t.logs.some((l) => l.ip === '127.0.0.28' && l.cause === 'timeout'));
    await a.waitChunks(4);
    assert.ok(a.chunks.every((c) => indexOf(files, c) >= 0), 'fast client got whole chunks');
    assert.equal(parseCount(await t.req('127.0.0.27', 13, 0)), 1);
    assert.ok(slow.accepted >= 1);
  } finally {
    await t.close();
  }
});

/** Sends raw bytes (or nothing, with a half-close when `end`), returns what came back before close. */
function raw(port: number, payload: Buffer | null, end: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.29' }, () => {
      if (payload) s.write(payload);
      if (end) s.end();
    });
    const bound = setTimeout(() => { s.destroy(); reject(new Error('server did not close')); }, 10_000);
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(bound); resolve(Buffer.concat(parts)); });
  });
}

test('bad input is logged with its code, closed, and changes nothing', async () => {
  const { dir } = await makeChunks(2, () => 300);
  const t = await startNet({ content: [dir], requestTimeoutMs: 200 }, dir);
  try {
    const cases: Array<[Buffer | null, boolean, string[]]> = [
      [null, true, ['BAD_CONTROL_REQUEST']],
      [Buffer.from('abc'), false, ['BAD_CONTROL_REQUEST']],
      [Buffer.from('141'), false, ['UNKNOWN_CODE']],
      [Buffer.from('105'), false, ['CHANNEL_OUT_OF_RANGE']],
      [Buffer.alloc(2000, 0x31), false, ['REQUEST_TOO_LARGE', 'BAD_CONTROL_REQUEST']],
      [null, false, ['REQUEST_TIMEOUT']],
    ];
    for (const [payload, end, codes] of cases) {
      const before = t.logs.length;
      const got = await raw(t.port, payload, end);
      assert.equal(got.length, 0, 'nothing answered');
      await t.waitLog((l) => t.logs.indexOf(l) >= before && codes.includes(l.code as string) && l.ip === '127.0.0.29', codes.join('|'));
    }
    assert.equal((await t.req('127.0.0.29', 13, 0)).toString(), '0', 'still serving, nothing changed');
    assert.equal((await t.req('127.0.0.29', 11, 1)).toString(), '[]');
  } finally {
    await t.close();
  }
});

test('the embedded sample is served chunk by chunk', async () => {
  const dir = defaultContentDir();
  const names = (await fs.readdir(dir)).filter((n) => /^sample_\d{5}\.mkv$/.test(n)).sort();
  assert.ok(names.length >= 30);
  const files = await Promise.all(names.map((n) => fs.readFile(path.join(dir, n))));
  const t = await startNet({ content: [dir] });
  try {
    const a = await t.client('127.0.0.30');
    await t.req('127.0.0.30', 10, 0);
    await a.waitChunks(3);
    const idx = a.chunks.map((c) => indexOf(files, c));
    assert.ok(idx.every((i) => i >= 0));
    for (let k = 1; k < idx.length; k++) assert.equal(idx[k], (idx[k - 1] + 1) % files.length);
    assert.ok(a.chunks.every((c) => c.subarray(0, 4).equals(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]))));
  } finally {
    await t.close();
  }
});
