/**
 * @file summary.mjs
 * @brief Prints the tiers' failure files (test/report/failures.mjs) after all of them ran, and
 *        exits 1 if any test failed or any tier wrote no summary (it did not finish).
 *
 * Usage: node test/report/summary.mjs fault system net unit
 */
import { readFileSync } from 'node:fs';

let ok = true;
console.log('== test summary');
for (const tier of process.argv.slice(2)) {
  let text;
  try {
    text = readFileSync(`test-results/${tier}.txt`, 'utf8');
  } catch {
    console.log(`${tier}: no summary (the tier did not run to its end)`);
    ok = false;
    continue;
  }
  const lines = text.trim().split('\n');
  const counts = lines.findLast((line) => line.startsWith('# pass')) ?? '# unfinished';
  if (!counts.startsWith('# pass') || !counts.endsWith(' fail 0')) ok = false;
  console.log(`${tier}: ${counts.slice(2)}`);
  for (const line of lines) if (line.startsWith('not ok')) console.log(`  ${line}`);
}
process.exit(ok ? 0 : 1);
