/**
 * @file probe.ts
 * @brief The lab's observer: a tiny process inside the lab's `ctl` host that does HTTP GETs
 * for the test process, which lives in the root namespace and cannot reach the lab.
 *
 * Run as `ip netns exec <ctl> node --import tsx probe.ts`. Protocol on stdio, one JSON object
 * per line: in `{"id":1,"url":"http://10.213.7.11:9093/status","timeoutMs":2000}`, out
 * `{"id":1,"status":200,"body":"..."}` or `{"id":1,"error":"ECONNREFUSED"}`. Every request is
 * bounded by its timeout; the probe exits when its stdin closes (the lab stopped or died).
 */
import http from 'node:http';
import readline from 'node:readline';

/** One request from the lab. */
interface ProbeRequest { id: number; url: string; timeoutMs?: number }

const agent = new http.Agent({ keepAlive: false, maxSockets: 64 });

function reply(x: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(x)}\n`);
}

function get(req: ProbeRequest): void {
  const timeoutMs = Math.min(req.timeoutMs ?? 3000, 10_000);
  const r = http.get(req.url, { agent, timeout: timeoutMs }, (res) => {
    const parts: Buffer[] = [];
    res.on('data', (b: Buffer) => parts.push(b));
    res.on('end', () => reply({ id: req.id, status: res.statusCode, body: Buffer.concat(parts).toString() }));
    res.on('error', (err) => reply({ id: req.id, error: err.message }));
  });
  r.on('timeout', () => r.destroy(new Error(`timeout after ${timeoutMs} ms`)));
  r.on('error', (err) => reply({ id: req.id, error: err.message }));
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let req: ProbeRequest;
  try { req = JSON.parse(line) as ProbeRequest; } catch { return; }
  get(req);
}).on('close', () => process.exit(0));
reply({ id: 0, ready: true });
