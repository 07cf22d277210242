/**
 * @file package.test.ts
 * @brief The package as a dependent uses it: `main` names a file the build produces, and
 * requiring it gives the peer, the server and the player; `bin` starts the CLI; `npm test`
 * runs every test file.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; bin: Record<string, string>; scripts: Record<string, string> };

test('every test file runs in its tier: the tier script names its folder or the file', () => {
  for (const tier of ['unit', 'net', 'fault', 'system']) {
    const script = pkg.scripts[`tier:${tier}`];
    assert.ok(script, `no tier:${tier} script`);
    if (script.includes(`test/${tier}/*.test.ts`)) continue;
    const left = readdirSync(path.join(ROOT, 'test', tier)).filter((f) => f.endsWith('.test.ts') && !script.includes(`test/${tier}/${f}`));
    assert.deepEqual(left, [], `tier:${tier} does not run these`);
  }
  assert.match(pkg.scripts.test, /tier:unit/);
  for (const tier of ['net', 'fault', 'system']) assert.match(pkg.scripts.test, new RegExp(`tier:${tier}`));
});

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
