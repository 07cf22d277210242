/**
 * @file failures.mjs
 * @brief A node:test reporter that writes one line per failed test (file, name, error), and a
 *        last line with the counts, so that `npm test` can end with a summary of every tier.
 *
 * How it works: node:test hands a reporter the stream of its events; this one keeps the failures
 * of leaf tests (a failed suite only repeats its children) and the pass count. `npm test` passes
 * it as a second reporter (`--test-reporter-destination=test-results/<tier>.txt`) next to the
 * usual TAP on stdout; test/report/summary.mjs prints the files at the end, after the grouped
 * output of the tiers that ran side by side.
 */
export default async function* failures(source) {
  let passed = 0;
  let failed = 0;
  for await (const event of source) {
    if (event.type === 'test:pass' && event.data.details?.type !== 'suite') passed += 1;
    if (event.type !== 'test:fail' || event.data.details?.type === 'suite') continue;
    failed += 1;
    const { file, name, details } = event.data;
    const error = details?.error;
    const reason = String(error?.cause?.message ?? error?.cause ?? error?.message ?? error)
      .split('\n').slice(0, 6).join(' | ');
    yield `not ok ${file ?? ''} :: ${name} :: ${reason.slice(0, 600)}\n`;
  }
  yield `# pass ${passed} fail ${failed}\n`;
}
