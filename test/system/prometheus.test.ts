/**
 * @file prometheus.test.ts
 * @brief A real Prometheus scrapes the PM2 demo: the shipped config is valid, peers' byte counters
 *        and the server's clients gauge arrive, every Grafana panel query evaluates, and our own
 *        metric names pass `promtool check metrics`.
 *
 * The demo runs on a random port base, so the test scrapes a copy of prometheus/prometheus.yml
 * with the ports replaced. Prometheus needs ~6 s before the first sample is queryable.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Demo, PEER_IPS } from '../helpers/demo';
import { waitFor } from '../helpers/wait';
import { ROOT, getJson } from '../helpers/testnet';

const CONFIG = path.join(ROOT, 'prometheus/prometheus.yml');
const DASHBOARD = path.join(ROOT, 'grafana/relaytv-dashboard.json');

/** One vector sample of the query API. */
interface Sample { metric: Record<string, string>; value: [number, string] }

let demo: Demo | null = null;
let prom: ChildProcess | null = null;
let tmp = '';
let promUrl = '';

/** @brief A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

/** @brief Runs an instant query; rejects on an API error. @param q PromQL. */
async function query(q: string): Promise<Sample[]> {
  const r = (await getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)) as { status: string; error?: string; data: { result: Sample[] } };
  if (r.status !== 'success') throw new Error(`${q}: ${r.error}`);
  return r.data.result;
}

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-prom-'));
  demo = await Demo.create(1);
  await demo.run('start');
  const shipped = await fs.readFile(CONFIG, 'utf8');
  const cfg = path.join(tmp, 'prometheus.yml');
  await fs.writeFile(cfg, shipped.replaceAll(':9190', `:${demo.ports.metrics}`).replaceAll(':9093', `:${demo.ports.http}`));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prom = spawn('prometheus', [`--config.file=${cfg}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' });
});

after(async () => {
  if (prom && prom.exitCode === null && prom.signalCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    const t = setTimeout(() => prom!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  await demo?.cleanup();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

test('the shipped prometheus.yml passes promtool check config', () => {
  const r = spawnSync('promtool', ['check', 'config', CONFIG], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('Prometheus scrapes byte counters from the peers and the server clients gauge', { timeout: 90_000 }, async () => {
  let sent: Sample[] = [];
  await waitFor(async () => {
    sent = await query('relaytv_sent_bytes_total{job="relaytv-peer"}');
    return sent.some((s) => Number(s.value[1]) > 0);
  }, 45_000, 'a peer with sent bytes > 0 in Prometheus');
  assert.ok(sent.every((s) => s.metric.role === 'peer' && PEER_IPS.some((n) => s.metric.id === `127.0.0.${n}`)), 'id/role labels come from the peers');

  await waitFor(async () => (await query('sum by (id) (relaytv_received_bytes_total{job="relaytv-peer"}) > 0')).length === PEER_IPS.length,
    30_000, 'received bytes > 0 from all six peers');

  // Targets are scraped at different phases: poll for the server and for every target too.
  let clients: Sample[] = [];
  await waitFor(async () => (clients = await query('relaytv_channel_clients{job="relaytv-server"}')).length === 2, 20_000, "the server's clients gauge");
  assert.deepEqual(clients.map((s) => s.metric.channel).sort(), ['0', '1']);
  await waitFor(async () => (await query('relaytv_channel_clients{job="relaytv-server"} == 1')).length === 2, 20_000, 'one direct client per channel (--max-clients 1)');

  await waitFor(async () => (await query('up == 1')).length === 7, 20_000, 'all seven targets up');
});

test('every query of the Grafana dashboard evaluates', { timeout: 30_000 }, async () => {
  const dash = JSON.parse(await fs.readFile(DASHBOARD, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 10);
  for (const { title, expr } of exprs) await assert.doesNotReject(query(expr), `panel '${title}'`);
  // rate() needs two samples in its window: one more scrape (2 s) after the first.
  await waitFor(async () => (await query('sum by (id) (rate(relaytv_sent_bytes_total{role="peer"}[30s]))')).length > 0, 20_000, 'the byte-rate panel has data');
});

test("our own metric names on a peer's /metrics pass promtool check metrics", async () => {
  const text = await new Promise<string>((resolve, reject) => {
    http.get(`http://127.0.0.11:${demo!.ports.http}/metrics`, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  // prom-client's default families (relaytv_nodejs_*, relaytv_process_*) fail promtool by design.
  const ours = text.split('\n').filter((l) => !/^(# (HELP|TYPE) )?relaytv_(nodejs|process)_/.test(l)).join('\n');
  assert.match(ours, /relaytv_sent_bytes_total/);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
