/**
 * @file package.test.ts
 * @brief The package as a dependent uses it: `main` names a file the build produces, and
 * requiring it gives the peer, the server and the player; `bin` starts the CLI.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; bin: Record<string, string> };

test('package.json main is built and exports the library', () => {
  const main = path.join(ROOT, pkg.main);
  assert.ok(existsSync(main), `${pkg.main} is not produced by the build`);
  // A fresh process, as a dependent would load it (not through tsx).
  const names = execFileSync(process.execPath, ['-e', `console.log(Object.keys(require(${JSON.stringify(main)})).join(' '))`], { encoding: 'utf8' }).trim().split(' ');
  for (const n of ['Peer', 'StreamServer', 'Player', 'MemoryNetwork', 'tcpTransport', 'createChunkPool', 'ERROR_CODES']) assert.ok(names.includes(n), `main does not export ${n}`);
});

test('package.json bin starts the CLI', () => {
  const out = execFileSync(process.execPath, [path.join(ROOT, pkg.bin.relaytv), '--help'], { encoding: 'utf8' });
  assert.match(out, /peer/);
  assert.match(out, /server/);
});
