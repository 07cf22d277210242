// @file gossip-node.mjs
// @brief One js-libp2p gossipsub node for `npm run bench -- compare` (own process, ESM-only deps).
//
// argv: JSON {ip, port, dir, role: 'pub'|'sub', dial: [multiaddr], periodMs, content, topic}
// IPC from the bench: {cmd:'start', count} (publisher: publish `count` chunks, one per period),
// {cmd:'stop'}. Reports on IPC: {ev:'ready', addr}, {ev:'peers', n}, {ev:'published', seq}.
// Every delivered chunk is written like relaytv does (temporary file + rename to <seq>.mkv),
// so latency = file mtime - publisher's file mtime, the same measure for both systems.
// Payload = 8-byte big-endian sequence + chunk bytes.
import './node20-polyfill.mjs';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { plaintext } from '@libp2p/plaintext';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { gossipsub } from '@chainsafe/libp2p-gossipsub';
import { multiaddr } from '@multiformats/multiaddr';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const cfg = JSON.parse(process.argv[2]);
const topic = cfg.topic ?? 'tv0';
await fs.mkdir(cfg.dir, { recursive: true });

const node = await createLibp2p({
  addresses: { listen: [`/ip4/${cfg.ip}/tcp/${cfg.port}`] },
  transports: [tcp()],
  connectionEncrypters: [plaintext()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    // Defaults of gossipsub (D=6, heartbeat 1 s, floodPublish true, signed messages), except the
    // size limit raised for 2-second video chunks (up to ~425 KB) .
    pubsub: gossipsub({ maxInboundDataLength: 8 * 1024 * 1024, allowPublishToZeroTopicPeers: true }),
  },
  connectionManager: { maxConnections: 64 },
});
const pubsub = node.services.pubsub;
pubsub.subscribe(topic);

const name = (seq) => `${String(seq).padStart(8, '0')}.mkv`;
async function store(seq, data) {
  const tmp = path.join(cfg.dir, `.${name(seq)}.${process.pid}.tmp`);
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, path.join(cfg.dir, name(seq)));
}

pubsub.addEventListener('message', (ev) => {
  if (ev.detail.topic !== topic) return;
  const d = ev.detail.data;
  const seq = Number(Buffer.from(d.buffer, d.byteOffset, 8).readBigUInt64BE(0));
  void store(seq, d.subarray(8));
});

for (const a of cfg.dial ?? []) {
  node.dial(multiaddr(a)).catch((e) => process.send?.({ ev: 'dialError', addr: a, err: String(e?.message ?? e) }));
}

let timer = null;
process.on('message', async (m) => {
  if (m?.cmd === 'peers') {
    process.send?.({ ev: 'peers', n: node.getPeers().length, mesh: pubsub.getMeshPeers?.(topic)?.length ?? -1, sub: pubsub.getSubscribers(topic).length });
  } else if (m?.cmd === 'start' && cfg.role === 'pub') {
    const files = readdirSync(cfg.content).filter((f) => /_\d+\.mkv$/.test(f)).sort();
    const chunks = files.map((f) => readFileSync(path.join(cfg.content, f)));
    let seq = 0;
    const tick = async () => {
      if (seq >= m.count) { clearInterval(timer); return; }
      const s = seq++;
      const c = chunks[s % chunks.length];
      const payload = new Uint8Array(8 + c.length);
      Buffer.from(payload.buffer).writeBigUInt64BE(BigInt(s), 0);
      payload.set(c, 8);
      await store(s, c); // the publisher's own copy first: its mtime is the latency origin
      try {
        const r = await pubsub.publish(topic, payload);
        process.send?.({ ev: 'published', seq: s, recipients: r?.recipients?.length ?? -1 });
      } catch (e) {
        process.send?.({ ev: 'publishError', seq: s, err: String(e?.message ?? e) });
      }
    };
    void tick();
    timer = setInterval(() => void tick(), m.periodMs);
  } else if (m?.cmd === 'stop') {
    if (timer) clearInterval(timer);
    await node.stop().catch(() => undefined);
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ev: 'ready', addr: `/ip4/${cfg.ip}/tcp/${cfg.port}/p2p/${node.peerId.toString()}` });
