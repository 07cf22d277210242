/**
 * @file docs.test.ts
 * @brief The Doxygen build is real and complete: class pages exist, every source is listed, no
 * undocumented public symbol in src/ or workers/, and every error code is in docs/errors.md.
 *
 * Doxygen runs once, with the project's Doxyfile, into a temporary OUTPUT_DIRECTORY. Failures
 * name the offending symbols with file:line, so the message says what to document.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ERROR_CODES } from '../../src/errors';
import { buildSite } from '../helpers/doxygen';

const root = path.resolve(__dirname, '../..');
let out = '';
let warnings: string[] = [];

/** Every .ts file under `dir` (relative to the repo root). */
function sources(dir: string): string[] {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((n) => {
    const rel = path.join(dir, n);
    if (statSync(path.join(root, rel)).isDirectory()) return sources(rel);
    return n.endsWith('.ts') ? [rel] : [];
  });
}

/** Warnings of the log, one entry per warning (continuation lines joined), limited to `dirs`. */
function warningsIn(dirs: string[]): string[] {
  return warnings.filter((w) => dirs.some((d) => w.startsWith(path.join(root, d) + path.sep)));
}

before(() => {
  out = mkdtempSync(path.join(tmpdir(), 'relaytv-docs-'));
  const log = buildSite(out).warningsLog;
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  warnings = text.split('\n').reduce<string[]>((acc, line) => {
    if (/^\S.*:\d+: warning:/.test(line) || acc.length === 0) acc.push(line);
    else if (line.trim()) acc[acc.length - 1] += `\n${line}`;
    return acc;
  }, []).filter((w) => w.includes('warning:'));
});

after(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

test('class pages exist for real classes, with their members', () => {
  const page = path.join(out, 'html', 'classRelayError.html');
  assert.ok(existsSync(page), 'no class page for RelayError (src/errors.ts)');
  const html = readFileSync(page, 'utf8');
  assert.match(html, /code/, 'RelayError page lacks its `code` field');
  assert.match(html, /constructor/, 'RelayError page lacks its constructor');
  const globals = readFileSync(path.join(out, 'html', 'errors_8ts.html'), 'utf8');
  assert.match(globals, /relayError/, 'errors.ts page lacks the relayError factory');
});

test('every source file is listed', () => {
  const files = readFileSync(path.join(out, 'html', 'files.html'), 'utf8');
  const missing = [...sources('src'), ...sources('workers')].filter((f) => !files.includes(`>${path.basename(f)}<`));
  assert.deepEqual(missing, [], `files missing from the file list:\n${missing.join('\n')}`);
});

test('every source file has a @file comment (else doxygen cannot report its undocumented functions)', () => {
  const bare = [...sources('src'), ...sources('workers')].filter((f) => !/[@\\]file\b/.test(readFileSync(path.join(root, f), 'utf8')));
  assert.deepEqual(bare, [], `sources without a @file doc comment:\n${bare.join('\n')}`);
});

test('no undocumented classes or members in src/ and workers/', () => {
  const undoc = warningsIn(['src', 'workers']).filter((w) => /is not documented/.test(w));
  assert.equal(undoc.length, 0, `${undoc.length} undocumented symbol(s):\n${undoc.map((w) => w.replace(root + path.sep, '')).join('\n')}`);
});

test('no documentation errors (bad @param names, unknown commands) in src/ and workers/', () => {
  const bad = warningsIn(['src', 'workers']).filter((w) => !/is not documented/.test(w));
  assert.equal(bad.length, 0, `${bad.length} doc warning(s):\n${bad.map((w) => w.replace(root + path.sep, '')).join('\n')}`);
});

test('docs/errors.md and ERROR_CODES match both ways, and every code is raised or logged in src/', () => {
  const md = readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8');
  const rows = [...md.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]);
  const codes = Object.keys(ERROR_CODES);
  assert.deepEqual(codes.filter((c) => !rows.includes(c)), [], 'codes without a row in docs/errors.md');
  assert.deepEqual(rows.filter((r) => !codes.includes(r)), [], 'rows of docs/errors.md that are no code');
  assert.deepEqual(rows.filter((r, i) => rows.indexOf(r) !== i), [], 'codes with two rows');
  // Raised (relayError('X'), close('X')) or logged ({ code: 'X' }) by some file other than errors.ts.
  const files = (function walk(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name))
      : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  })(path.join(root, 'src')).filter((f) => !f.endsWith(path.join('src', 'errors.ts')));
  const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
  assert.deepEqual(codes.filter((c) => !text.includes(`'${c}'`)), [], 'codes nothing in src/ raises or logs');
});
