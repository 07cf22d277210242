/**
 * @file player.test.ts
 * @brief `relaytv player` driven as a user: real processes, real files, real mpv when installed.
 *
 * Each test runs the CLI in a child process with an IPC channel (as a peer would fork it), writes
 * chunks the way the peer does (hidden temp file, then rename) and waits for conditions with
 * bounded polling; nothing asserts on wall-clock durations. The pace test feeds real 2.14 s
 * chunks at the course server's cadence (one every 1.8 s) and slower, for about two minutes, to
 * mpv and the headless player at once; the hostile-chunk test plays playlists disguised as
 * chunks and checks that no player (nor ffprobe) connects to the address inside them.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, fork, execFileSync, type ChildProcess } from 'node:child_process';
import { promises as fs, existsSync, mkdtempSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PLAYER_SPEED_MAX, PLAYER_SPEED_MIN } from '../../src/constants';
import { chunkFileName, listPending } from '../../src/content/folder';
import { waitFor } from '../helpers/wait';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = `require(${JSON.stringify(path.join(ROOT, 'src/cli/index.ts'))}).main(['node', 'relaytv', ...process.argv.slice(1)])`;
const TMP = mkdtempSync(path.join(os.tmpdir(), 'relaytv-player-test-'));
const children = new Set<ChildProcess>();

interface Stats {
  kind: string; played: number; stalls: number; skipped: number; restarts: number; current: string | null;
  speed: number; behindS: number; pending: number; cadenceS: number | null; chunkS: number | null;
}

/** A running player: its process, every stats message and its stderr. */
interface Running { child: ChildProcess; stats: Stats[]; stderr: () => string; last: () => Stats | undefined }

after(async () => {
  for (const child of children) await stopPlayer(child);
  await fs.rm(TMP, { recursive: true, force: true });
});

function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function newDir(name: string): Promise<string> {
  const dir = path.join(TMP, name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** Writes a chunk as the peer does: hidden temp file, then rename to its final name. */
async function writeChunk(dir: string, seq: number, bytes: Buffer): Promise<void> {
  const tmp = path.join(dir, `.${chunkFileName(seq)}.${Math.random().toString(36).slice(2)}.tmp`);
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, path.join(dir, chunkFileName(seq)));
}

let realChunks: Buffer[] | null = null;
/** Four real 2-second Matroska chunks: the embedded sample, else made with ffmpeg. */
async function loadRealChunks(): Promise<Buffer[]> {
  if (realChunks) return realChunks;
  const sample = [0, 1, 2, 3].map((i) => path.join(ROOT, 'assets/sample', `sample_${String(i).padStart(5, '0')}.mkv`));
  if (!sample.every((f) => existsSync(f))) {
    const dir = await newDir('ffmpeg');
    for (let i = 0; i < 4; i++) {
      sample[i] = path.join(dir, `${i}.mkv`);
      execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
        '-f', 'lavfi', '-i', 'sine', '-t', '2', sample[i]]);
    }
  }
  realChunks = await Promise.all(sample.map((f) => fs.readFile(f)));
  return realChunks;
}

/** Starts `relaytv player ...args` with an IPC channel, as a peer would. */
function startPlayer(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', ENTRY, '--', 'player', ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, RELAYTV_LOG: 'info', ...env },
  });
  children.add(child);
  const stats: Stats[] = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
  child.stdout!.resume();
  child.on('message', (m: Stats) => { if (m.kind === 'player-stats') stats.push(m); });
  return { child, stats, stderr: () => stderr, last: () => stats[stats.length - 1] };
}

/** SIGTERMs a player and waits for it; returns its exit code. */
async function stopPlayer(child: ChildProcess): Promise<number | null> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Runs the CLI to completion: exit code, stdout, stderr. */
async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', ENTRY, '--', ...args], {
    cwd: ROOT, env: { ...process.env, RELAYTV_LOG: 'warn', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => { out += t; });
  child.stderr.setEncoding('utf8').on('data', (t: string) => { err += t; });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, out, err };
}

/** Process ids of every external player this player has logged as started. */
function backendPids(run: Running): number[] {
  return run.stderr().split('\n').filter((l) => l.includes('"childPid"')).map((l) => (JSON.parse(l) as { childPid: number }).childPid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('null player deletes in order and never touches a file still being written', async () => {
  const dir = await newDir('null-order');
  const keep = path.join(dir, '.00000099.mkv.keepme.tmp');
  await fs.writeFile(keep, 'a temp file of another writer');
  for (let seq = 0; seq < 3; seq++) await writeChunk(dir, seq, Buffer.from(`chunk ${seq}`));
  const run = startPlayer(['--dir', dir, '--using', 'null', '--chunk-seconds', '0.1', '--poll-ms', '50']);
  // A chunk being written slowly: its hidden temp file must survive while the player runs.
  const slow = path.join(dir, `.${chunkFileName(3)}.slow.tmp`);
  await fs.writeFile(slow, 'first half ');
  const gone: number[] = [];
  const present = new Set([0, 1, 2]);
  await waitFor(async () => {
    for (const seq of present) if (!existsSync(path.join(dir, chunkFileName(seq)))) { present.delete(seq); gone.push(seq); }
    return (run.last()?.played ?? 0) >= 3 && present.size === 0;
  }, 30_000, 'chunks 0..2 shown', 20);
  assert.deepEqual(gone, [0, 1, 2], 'deleted in sequence order');
  assert.ok(existsSync(slow), 'a temp file being written is never opened or deleted');
  await fs.appendFile(slow, 'second half');
  await fs.rename(slow, path.join(dir, chunkFileName(3)));
  await waitFor(() => run.last()?.played === 4, 30_000, 'chunk 3 shown once complete', 20);
  await waitFor(() => !existsSync(path.join(dir, chunkFileName(3))), 30_000, 'chunk 3 deleted', 20);
  assert.ok(existsSync(keep), 'hidden temp files survive');
  assert.equal(run.last()?.skipped, 0);
  const seen = run.stats.map((s) => s.current).filter((c): c is string => c !== null);
  assert.deepEqual([...new Set(seen)], [0, 1, 2, 3].map(chunkFileName), 'shown in order');
  assert.equal(await stopPlayer(run.child), 0, 'SIGTERM exits cleanly');
});

test('--list prints the chunks waiting to be shown, in order', async () => {
  const dir = await newDir('list');
  for (const seq of [12, 3, 7]) await writeChunk(dir, seq, Buffer.from('x'));
  await fs.writeFile(path.join(dir, '.00000020.mkv.abc.tmp'), 'partial');
  await fs.writeFile(path.join(dir, 'notes.txt'), 'not a chunk');
  const { code, out } = await runCli(['player', '--list', '--dir', dir]);
  assert.equal(code, 0);
  assert.deepEqual(out.trim().split('\n'), await listPending(dir));
  assert.deepEqual(out.trim().split('\n'), [3, 7, 12].map(chunkFileName));
  assert.ok(existsSync(path.join(dir, chunkFileName(3))), '--list deletes nothing');
});

test('clear coded errors: missing folder, missing backend', async () => {
  const missing = await runCli(['player', '--dir', path.join(TMP, 'does-not-exist'), '--using', 'null']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /DIR_MISSING/);
  const dir = await newDir('no-backend');
  const nobackend = await runCli(['player', '--dir', dir, '--using', 'mpv'], { PATH: path.join(TMP, 'empty-path') });
  assert.equal(nobackend.code, 2);
  assert.match(nobackend.err, /BACKEND_MISSING/);
  const bad = await runCli(['player', '--dir', dir, '--using', 'null', '--buffer', 'zero']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /BAD_OPTION/);
});

test('a late chunk counts one stall, then playback resumes', async () => {
  const dir = await newDir('stall');
  await writeChunk(dir, 0, Buffer.from('zero'));
  const run = startPlayer(['--dir', dir, '--using', 'null', '--buffer', '1', '--chunk-seconds', '0.05', '--poll-ms', '50']);
  await waitFor(() => run.last()?.played === 1 && run.last()?.stalls === 1, 30_000, 'a stall after chunk 0', 20);
  assert.equal(run.last()?.current, null);
  await writeChunk(dir, 1, Buffer.from('one'));
  await waitFor(() => (run.last()?.played ?? 0) === 2, 30_000, 'chunk 1 played after the stall', 20);
  await waitFor(() => !existsSync(path.join(dir, chunkFileName(1))), 30_000, 'chunk 1 deleted', 20);
  assert.ok(run.stats.some((s) => s.current === chunkFileName(1)));
  await stopPlayer(run.child);
});

test('far behind live: at top speed, one chunk skipped per chunk started, oldest first', async () => {
  const dir = await newDir('catchup');
  for (let seq = 0; seq < 2; seq++) await writeChunk(dir, seq, Buffer.from('x'));
  const run = startPlayer(['--dir', dir, '--using', 'null', '--buffer', '2', '--max-behind', '4', '--chunk-seconds', '1', '--poll-ms', '50']);
  await waitFor(() => run.last()?.current === chunkFileName(0), 30_000, 'playback started', 20);
  for (let seq = 2; seq < 12; seq++) await writeChunk(dir, seq, Buffer.from('x'));
  await waitFor(() => (run.last()?.skipped ?? 0) > 0, 30_000, 'skip ahead', 20);
  await waitFor(() => {
    const s = run.last();
    return s !== undefined && s.played + s.skipped === 12;
  }, 30_000, 'everything shown or skipped', 20);
  await waitFor(async () => (await listPending(dir)).length === 0, 30_000, 'folder empty', 20);
  const shown = [...new Set(run.stats.map((s) => s.current).filter((c): c is string => c !== null))];
  assert.equal(shown.length, run.last()!.played, 'every shown chunk was current once');
  const skipped = Array.from({ length: 12 }, (_, i) => chunkFileName(i)).filter((n) => !shown.includes(n));
  assert.equal(skipped.length, run.last()!.skipped);
  assert.deepEqual(shown, [...shown].sort(), 'shown in order');
  assert.ok(shown.includes(chunkFileName(11)), 'the newest chunk is shown');
  let skippedAt: string | null = null;
  for (let i = 1; i < run.stats.length; i++) {
    const [before, now] = [run.stats[i - 1], run.stats[i]];
    if (now.skipped === before.skipped) continue;
    assert.equal(now.skipped - before.skipped, 1, 'never a backlog at once');
    assert.equal(now.speed, PLAYER_SPEED_MAX, 'skips only at the top of the speed range');
    assert.notEqual(now.current, skippedAt, 'at most one skip per chunk started');
    skippedAt = now.current;
  }
  await stopPlayer(run.child);
});

test('the IPC stats arrive in a forked player, which exits with its parent channel', async () => {
  const dir = await newDir('fork');
  const entry = path.join(TMP, 'fork-entry.js');
  // Forked like the peer does: argv is [node, entry, 'player', ...], as with bin/relaytv.js.
  await fs.writeFile(entry, `require(${JSON.stringify(path.join(ROOT, 'src/cli/index.ts'))}).main(process.argv);\n`);
  const child = fork(entry, ['player', '--dir', dir, '--using', 'null', '--chunk-seconds', '0.05', '--poll-ms', '50'], {
    execArgv: ['--import', 'tsx'], cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: { ...process.env, RELAYTV_LOG: 'warn' },
  });
  children.add(child);
  const stats: Stats[] = [];
  child.on('message', (m: Stats) => stats.push(m));
  for (let seq = 0; seq < 3; seq++) await writeChunk(dir, seq, Buffer.from('x'));
  await waitFor(() => stats.some((s) => s.played === 3), 30_000, '3 chunks played, reported over IPC', 20);
  const last = stats[stats.length - 1];
  assert.deepEqual(Object.keys(last).sort(),
    ['behindS', 'cadenceS', 'chunkS', 'current', 'kind', 'pending', 'played', 'restarts', 'skipped', 'speed', 'stalls']);
  assert.equal(last.kind, 'player-stats');
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.disconnect();
  assert.equal(await exited, 0, 'the player exits when its parent disconnects');
  children.delete(child);
});

const mpvSkip = hasCommand('mpv') ? false : 'mpv is not installed (apt-get install mpv); CI installs it';

test('mpv decodes real chunks headless and each file goes away after', { skip: mpvSkip }, async () => {
  const chunks = await loadRealChunks();
  const dir = await newDir('mpv');
  for (let seq = 0; seq < 3; seq++) await writeChunk(dir, seq, chunks[seq]);
  const run = startPlayer(['--dir', dir, '--using', 'mpv', '--headless', '--poll-ms', '50']);
  await waitFor(() => run.last()?.played === 3, 60_000, '3 chunks shown by mpv', 20);
  assert.deepEqual(await listPending(dir), []);
  assert.equal(run.last()?.skipped, 0);
  const [pid] = backendPids(run);
  assert.ok(pid && alive(pid), 'mpv keeps running between chunks');
  assert.equal(await stopPlayer(run.child), 0);
  await waitFor(() => !alive(pid), 10_000, 'mpv stopped with the player', 20);
});

test('a SIGKILLed mpv is restarted and playback goes on', { skip: mpvSkip }, async () => {
  const chunks = await loadRealChunks();
  const dir = await newDir('mpv-kill');
  for (let seq = 0; seq < 4; seq++) await writeChunk(dir, seq, chunks[seq]);
  const run = startPlayer(['--dir', dir, '--using', 'mpv', '--headless', '--poll-ms', '50']);
  await waitFor(() => backendPids(run).length === 1 && run.last()?.current !== null && run.last()?.current !== undefined, 30_000, 'mpv playing', 20);
  const [first] = backendPids(run);
  process.kill(first, 'SIGKILL');
  await waitFor(() => run.last()?.restarts === 1, 30_000, 'restart counted', 20);
  await waitFor(() => backendPids(run).length === 2, 30_000, 'a new mpv', 20);
  assert.notEqual(backendPids(run)[1], first);
  await waitFor(() => run.last()?.played === 4, 60_000, 'every chunk shown after the restart', 20);
  assert.deepEqual(await listPending(dir), []);
  const second = backendPids(run)[1];
  assert.equal(await stopPlayer(run.child), 0);
  await waitFor(() => !alive(second), 10_000, 'mpv stopped with the player', 20);
});

let paceChunks: Buffer[] | null = null;
/**
 * Four real chunks like the course's (`filme/`: 2.143 s each), made with ffmpeg: testsrc at 50
 * fps and a sine, Matroska, 2.14 s. Returned with their duration as ffprobe reads it.
 */
async function loadPaceChunks(): Promise<Buffer[]> {
  if (paceChunks) return paceChunks;
  const dir = await newDir('pace-chunks');
  const files = [0, 1, 2, 3].map((i) => path.join(dir, `${i}.mkv`));
  files.forEach((file, i) => execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=50',
    '-f', 'lavfi', '-i', `sine=frequency=${440 + 110 * i}:sample_rate=44100`, '-t', '2.14', file]));
  paceChunks = await Promise.all(files.map((f) => fs.readFile(f)));
  await fs.rm(dir, { recursive: true, force: true });
  return paceChunks;
}

/** What one paced run saw. */
interface PaceRun { name: string; count: number; maxOnDisk: number; run: Running }

/**
 * Writes `count` chunks into `dir`, chunk k at k * cadenceMs after the start (no drift), as the
 * peer does; records the most chunks ever waiting on disk right after a write.
 */
async function feed(dir: string, chunks: Buffer[], count: number, cadenceMs: number): Promise<number> {
  const t0 = Date.now();
  let maxOnDisk = 0;
  for (let seq = 0; seq < count; seq++) {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + seq * cadenceMs - Date.now())));
    await writeChunk(dir, seq, chunks[seq % chunks.length]);
    maxOnDisk = Math.max(maxOnDisk, (await listPending(dir)).length);
  }
  return maxOnDisk;
}

/** Starts a player on a fresh folder, feeds it, waits until everything is shown. */
async function pacedRun(name: string, using: string, cadenceMs: number, count: number): Promise<PaceRun> {
  const chunks = await loadPaceChunks();
  const dir = await newDir(name);
  const run = startPlayer(['--dir', dir, '--using', using, '--headless', '--poll-ms', '200']);
  await waitFor(() => run.stats.length > 0, 30_000, `${name} started`, 20);
  const maxOnDisk = await feed(dir, chunks, count, cadenceMs);
  await waitFor(() => {
    const s = run.last();
    return s !== undefined && s.played + s.skipped === count;
  }, 60_000, `${name}: every chunk shown or skipped`, 20);
  await waitFor(async () => (await listPending(dir)).length === 0, 10_000, `${name}: folder empty`, 20);
  return { name, count, maxOnDisk, run };
}

/** One line of figures per run (in the test output, for the report). */
function figures(r: PaceRun): string {
  const speeds = r.run.stats.map((s) => s.speed);
  const last = r.run.last()!;
  const perChunk = r.run.stats.filter((s, i, all) => s.current !== null && s.current !== all[i - 1]?.current).map((s) => s.speed);
  const mean = perChunk.reduce((a, b) => a + b, 0) / perChunk.length;
  return `${r.name}: ${r.count} chunks, played ${last.played}, skipped ${last.skipped}, stalls ${last.stalls}, ` +
    `speed ${Math.min(...speeds)}..${Math.max(...speeds)} (mean per chunk ${mean.toFixed(3)}), max pending ${Math.max(...r.run.stats.map((s) => s.pending))} ` +
    `(on disk ${r.maxOnDisk}), max behind ${Math.max(...r.run.stats.map((s) => s.behindS))} s, ` +
    `cadence ${last.cadenceS} s, chunk ${last.chunkS} s`;
}

test('keeps pace: 2.14 s chunks every 1.8 s and every 2.6 s for ~2 min, mpv and headless', { skip: mpvSkip }, async (t) => {
  // The course's server: 67 chunks at 1.8 s is 2 minutes. Slower than playback: 46 at 2.6 s.
  const runs = await Promise.all([
    pacedRun('pace-fast-mpv', 'mpv', 1800, 67),
    pacedRun('pace-fast-null', 'null', 1800, 67),
    pacedRun('pace-slow-mpv', 'mpv', 2600, 46),
    pacedRun('pace-slow-null', 'null', 2600, 46),
  ]);
  for (const r of runs) t.diagnostic(figures(r));
  for (const r of runs) {
    const last = r.run.last()!;
    const speeds = r.run.stats.map((s) => s.speed);
    assert.equal(last.skipped, 0, `${r.name}: nothing skipped`);
    assert.equal(last.played, r.count, `${r.name}: every chunk shown (then deleted: the folder is empty)`);
    assert.ok(speeds.every((v) => v >= PLAYER_SPEED_MIN && v <= PLAYER_SPEED_MAX), `${r.name}: speed within the range`);
    assert.ok(last.chunkS !== null && Math.abs(last.chunkS - 2.14) < 0.02, `${r.name}: duration read from the chunks (${last.chunkS})`);
    const shown = new Set(r.run.stats.map((s) => s.current).filter((c) => c !== null));
    assert.equal(shown.size, r.count, `${r.name}: each chunk was the current one`);
    assert.doesNotMatch(r.run.stderr(), /could not decode/, `${r.name}: no decode warnings`);
  }
  for (const r of runs.slice(0, 2)) {
    const maxPending = Math.max(...r.run.stats.map((s) => s.pending));
    assert.ok(maxPending <= 5 && r.maxOnDisk <= 5, `${r.name}: pending bounded (${maxPending}, on disk ${r.maxOnDisk})`);
    assert.ok(Math.max(...r.run.stats.map((s) => s.speed)) > 1.1, `${r.name}: sped up to keep pace`);
    const firstStall = r.run.stats.find((x) => x.stalls > 0);
    assert.ok(firstStall === undefined || firstStall.played === r.count, `${r.name}: ran dry only after the last chunk`);
  }
  for (const r of runs.slice(2)) {
    assert.ok(r.run.last()!.stalls > 0, `${r.name}: stalls reported`);
    assert.ok(r.run.stats.every((s) => s.speed === PLAYER_SPEED_MIN), `${r.name}: never faster than normal`);
  }
  for (const r of runs) assert.equal(await stopPlayer(r.run.child), 0);
});

test('mpv without a sound device: chunks that play to the end are not "could not decode"', { skip: mpvSkip }, async () => {
  // A machine without a sound device, made here: an `mpv` on PATH that runs the real one with an
  // audio device that does not exist (mpv then plays without sound and ends each file with
  // `error: audio output initialization failed`).
  const bin = await newDir('no-sound-bin');
  const real = execFileSync('sh', ['-c', 'command -v mpv'], { encoding: 'utf8' }).trim();
  await fs.writeFile(path.join(bin, 'mpv'), `#!/bin/sh\nexec ${real} "$@" --ao=alsa --audio-device=alsa/relaytv-no-such-device\n`, { mode: 0o755 });
  const chunks = await loadRealChunks();
  const dir = await newDir('no-sound');
  for (let seq = 0; seq < 3; seq++) await writeChunk(dir, seq, chunks[seq]);
  const run = startPlayer(['--dir', dir, '--using', 'mpv', '--headless', '--poll-ms', '50'], { PATH: `${bin}:${process.env.PATH}` });
  await waitFor(() => run.last()?.played === 3, 60_000, '3 chunks shown without sound', 20);
  assert.deepEqual(await listPending(dir), []);
  assert.doesNotMatch(run.stderr(), /could not decode/);
  assert.equal(run.stderr().match(/no sound device/g)?.length, 1, 'said once, not once per chunk');
  assert.equal(await stopPlayer(run.child), 0);
});

/** A TCP listener on loopback counting the connections it is offered. */
async function listener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    count++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => count,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** Chunk files that are references to a URL: HLS, M3U, ffconcat, mpv EDL, PLS. */
function hostileChunks(url: string): Buffer[] {
  return [
    `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n${url}/seg0.ts\n#EXT-X-ENDLIST\n`,
    `#EXTM3U\n#EXTINF:2,live\n${url}/next.mkv\n`,
    `ffconcat version 1.0\nfile ${url}/next.mkv\n`,
    `# mpv EDL v0\n${url}/next.mkv\n`,
    `[playlist]\nFile1=${url}/next.mkv\nNumberOfEntries=1\n`,
  ].map((text) => Buffer.from(text));
}

const ffplaySkip = hasCommand('ffplay') ? false : 'ffplay is not installed (apt-get install ffmpeg)';

for (const using of ['mpv', 'ffplay'] as const) {
  test(`${using} started safely: a chunk that is a playlist opens no connection and playback goes on`,
    { skip: using === 'mpv' ? mpvSkip : ffplaySkip }, async () => {
      const tcp = await listener();
      try {
        const probe = net.connect(tcp.port, '127.0.0.1');
        await waitFor(() => tcp.connections() === 1, 5_000, 'the listener sees a plain connection', 20);
        probe.destroy();
        const dir = await newDir(`hostile-${using}`);
        const hostile = hostileChunks(`http://127.0.0.1:${tcp.port}`);
        for (let seq = 0; seq < hostile.length; seq++) await writeChunk(dir, seq, hostile[seq]);
        await writeChunk(dir, hostile.length, (await loadRealChunks())[0]);
        const count = hostile.length + 1;
        const run = startPlayer(['--dir', dir, '--using', using, '--headless', '--buffer', '1', '--poll-ms', '50']);
        await waitFor(() => run.last()?.played === count, 60_000, 'every chunk done', 20);
        assert.deepEqual(await listPending(dir), [], 'every chunk deleted');
        assert.ok(run.stats.some((s) => s.current === chunkFileName(hostile.length)), 'went on to the real chunk');
        assert.equal(tcp.connections(), 1, 'no player, nor ffprobe, connected to the address inside a chunk');
        assert.equal(await stopPlayer(run.child), 0);
      } finally {
        await tcp.close();
      }
    });
}
