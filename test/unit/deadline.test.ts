/**
 * @file deadline.test.ts
 * @brief A push's time limit holds through garbage collection (src/util/deadline.ts).
 *
 * A push to a client that accepts and never reads must fail with `timeout` within its limit.
 * With `AbortSignal.any([AbortSignal.timeout(ms), closing])` a collection could drop the
 * timeout signal and its timer, and the push then hung for good, stalling the channel's round.
 * Here collections are forced while the push waits.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { push, type PushError } from '../../src/server/push';
import { deadline } from '../../src/util/deadline';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('a push to a client that never reads fails with timeout, even when collections run meanwhile', { timeout: 10_000 }, async () => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true }, (s) => {
    sockets.add(s);
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const collect = setInterval(gc, 20);
  try {
    // More than loopback's socket buffers hold, so the bytes are never all taken.
    const data = Buffer.alloc(16 * 1024 * 1024, 7);
    const err = await push({ host: '127.0.0.1', port, data, timeoutMs: 300 }).then(() => null, (e: PushError) => e);
    assert.ok(err, 'the push did not complete');
    assert.equal(err.code, 'PUSH_FAILED');
    assert.equal(err.kind, 'timeout');
  } finally {
    clearInterval(collect);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('a deadline aborts on time, on its parent, and never after clear()', async () => {
  const a = deadline(30);
  gc();
  await new Promise((r) => a.signal.addEventListener('abort', r, { once: true }));
  assert.equal(a.expired, true);

  const parent = new AbortController();
  const b = deadline(60_000, parent.signal);
  parent.abort(new Error('closing'));
  assert.equal(b.signal.aborted, true);
  assert.equal(b.expired, false);
  b.clear();

  const c = deadline(20);
  c.clear();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(c.signal.aborted, false);
});
