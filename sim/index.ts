/**
 * @file index.ts
 * @brief `npm run sim`: the overlay simulator's command line.
 *
 *   npm run sim -- --peers 10000 --churn 0.01 [--slots 2] [--stripes 2] [--seconds 60]
 *                  [--seed 1] [--tick 1000] [--buffer 30] [--detect 300] [--no-replace] [--json out.json]
 *   npm run sim -- --sweep          1 000 / 10 000 / 100 000 peers at churn 0.01/min
 *
 * The model and its parameters are described in sim/engine.ts; the columns in sim/report.ts.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { DEFAULTS, simulate, SimConfig } from './engine';
import { formatTable, SimResult } from './report';

/**
 * @brief Parses a flag value as a finite number.
 * @param name Flag name, for the error message.
 * @return A commander argument parser.
 */
function num(name: string): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`--${name} must be a non-negative number, got "${v}"`);
    return x;
  };
}

/**
 * @brief Runs the CLI.
 * @param argv Process arguments.
 */
export function main(argv: string[]): void {
  const d = DEFAULTS;
  const program = new Command('sim')
    .description('Discrete-event simulation of the relaytv overlay (placement.ts) under churn')
    .option('--peers <n>', 'peers besides the source', num('peers'), d.peers)
    .option('--churn <r>', 'fraction of peers failing per minute (each replaced)', num('churn'), d.churn)
    .option('--slots <n>', 'slots per peer (restriction 3)', num('slots'), d.slots)
    .option('--stripes <k>', 'stripes K', num('stripes'), d.stripes)
    .option('--seconds <s>', 'simulated seconds of emission', num('seconds'), d.seconds)
    .option('--seed <x>', 'random seed', num('seed'), d.seed)
    .option('--root-slots <n>', "source's slots", num('root-slots'), d.rootSlots)
    .option('--buffer <chunks>', 'ring buffer per peer, chunks', num('buffer'), d.bufferChunks)
    .option('--detect <ms>', 'failure detection delay', num('detect'), d.detectMs)
    .option('--tick <ms>', 'coordinator batch window (0 = recompute at every change)', num('tick'), d.tickMs)
    .option('--no-replace', 'failed peers are not replaced (the overlay shrinks)')
    .option('--json <file>', 'also write the results as JSON')
    .option('--sweep', 'run 1000, 10000 and 100000 peers at churn 0.01/min')
    .parse(argv);
  const o = program.opts();
  const base: Partial<SimConfig> = {
    churn: o.churn, slots: o.slots, stripes: o.stripes, seconds: o.seconds, seed: o.seed,
    rootSlots: o.rootSlots, bufferChunks: o.buffer, detectMs: o.detect, tickMs: o.tick, replace: o.replace,
  };
  const runs: Partial<SimConfig>[] = o.sweep
    ? [1000, 10_000, 100_000].map((peers) => ({ ...base, peers, churn: 0.01 }))
    : [{ ...base, peers: o.peers }];
  if (o.slots < o.stripes) {
    process.stderr.write(`sim: warning: slots < stripes cannot feed every peer in every stripe (N*slots edges for N*K needs)\n`);
  }
  const results: SimResult[] = [];
  for (const run of runs) {
    process.stderr.write(`sim: ${run.peers} peers, churn ${run.churn}/min, ${run.seconds} s ...\n`);
    results.push(simulate(run));
  }
  process.stdout.write(formatTable(results) + '\n');
  if (o.json) writeFileSync(o.json, JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n');
}

if (require.main === module) main(process.argv);
