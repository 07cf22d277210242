/**
 * @file split.test.ts
 * @brief `splitFilm` on a short generated film: 7 s -> 4 keyframe-aligned chunks that decode
 *        alone; and the coded errors (no ffmpeg on PATH, unreadable film).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { splitFilm } from '../../src/content/split';
import { RelayError } from '../../src/errors';

const HAVE_FFMPEG = spawnSync('ffmpeg', ['-version']).status === 0 && spawnSync('ffprobe', ['-version']).status === 0;

/** Runs a tool synchronously, returns stdout; fails the test on a non-zero exit. */
function tool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('a 7 s film becomes 4 chunks, each starting with a keyframe and decoding alone', { skip: !HAVE_FFMPEG && 'ffmpeg not installed' }, async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-split-'));
  try {
    const film = path.join(tmp, 'My Film.mp4');
    tool('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=7',
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=7', '-c:v', 'libx264', '-g', '300', '-c:a', 'aac', '-shortest', film]);
    const out = path.join(tmp, 'chunks');
    const names = await splitFilm({ film, outDir: out, seconds: 2 });
    assert.deepEqual(names, ['My_Film_00000.mkv', 'My_Film_00001.mkv', 'My_Film_00002.mkv', 'My_Film_00003.mkv']);
    for (const n of names) {
      const file = path.join(out, n);
      const head = await fs.readFile(file);
      assert.deepEqual(head.subarray(0, 4), Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), `${n} is Matroska`);
      const first = tool('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=key_frame',
        '-read_intervals', '%+#1', '-of', 'csv=p=0', file]).trim().split('\n')[0];
      assert.equal(first.split(',')[0], '1', `${n} starts with a keyframe`);
      const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
      assert.equal(dec.status, 0);
      assert.equal(dec.stderr.trim(), '', `${n} decodes alone without errors`);
      const dur = Number(tool('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]));
      assert.ok(dur > 0.5 && dur < 2.6, `${n} lasts about 2 s (${dur})`);
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('no ffmpeg on PATH is FFMPEG_MISSING', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-split-'));
  try {
    await assert.rejects(splitFilm({ film: path.join(tmp, 'x.mp4'), outDir: tmp, env: { PATH: path.join(tmp, 'empty-bin') } }),
      (e: unknown) => e instanceof RelayError && e.code === 'FFMPEG_MISSING');
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('a missing or non-video film is FILM_UNREADABLE', { skip: !HAVE_FFMPEG && 'ffmpeg not installed' }, async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-split-'));
  try {
    const isUnreadable = (e: unknown): boolean => e instanceof RelayError && e.code === 'FILM_UNREADABLE';
    await assert.rejects(splitFilm({ film: path.join(tmp, 'absent.mp4'), outDir: path.join(tmp, 'o1') }), isUnreadable);
    const junk = path.join(tmp, 'junk.mp4');
    await fs.writeFile(junk, 'not a film');
    await assert.rejects(splitFilm({ film: junk, outDir: path.join(tmp, 'o2') }), isUnreadable);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
