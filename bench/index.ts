/**
 * @file index.ts
 * @brief `npm run bench -- <scenario> [flags]`: the benchmarks, and the definition of every
 * figure they write (this header is their documentation).
 *
 * Each scenario prints a table and writes bench-results/<name>.json (+ SVG plots there; the
 * folder is git-ignored). Every process started is killed at the end, also on error
 * (Testnet.stop(), swarms and gossip nodes by process group or pid).
 *
 * SCENARIOS
 * - steady   N peers (default 20), no fault, `--duration` s measured (default 60).
 *            -> steady.json; steady-s<S>.json with `--slots S` (S != 2); steady-mixed.json with `--mixed`.
 * - churn    as steady, and every 10 s a relaying peer (a member with children) is SIGKILLed
 *            (its process group: holder + overlay) and a new peer added; once per run (at 13 s,
 *            earlier in runs under 25 s) a relaying peer is hung (SIGSTOP of its process
 *            group) for 5 s, then SIGKILLed and replaced. -> churn.json / churn-s<S>.json / churn-mixed.json.
 * - direct   12 peers, server limit 1. Default: the direct peer (the source) SIGKILLed whole
 *            at half the run -> direct.json. `--fragile`: the server runs `--fragile` (the
 *            course's rule: one refused push stops the channel for good, CHANNEL_STOPPED) and the
 *            direct peer's overlay process (the pid of its /status) is SIGKILLed three times,
 *            12 s apart from 6 s on (default duration 45 s), its holder keeping 9091 and
 *            restarting it -> direct-fragile.json.
 * - scale    `--sizes 200,500,1000` peers hosted 50 per `relaytv swarm` process (swarm-scale.ts),
 *            one size after the other -> scale.json (one row per size, rewritten after each).
 * - pool     the Piscina pool against the main thread, and the cost of a chunk's cryptography -> pool.json.
 * - compare  js-libp2p gossipsub and relaytv on the same channel and machine, 10 % killed -> compare.json.
 * - lab      one peer per network namespace (root; `--hosts N`, lab.ts) -> lab.json.
 * - all      every scenario but lab, with the same flags.
 *
 * FLAGS
 * --period S     seconds per chunk (default 2)      --duration S   measured window, s
 * --peers N      peers (steady/churn 20, direct 12, compare 20)
 * --slots S      slots of every peer, steady and churn (default 2; stripes are then auto: min(S, 4))
 * --mixed        steady and churn: slots drawn per peer, in start order, from [1,2,2,3,4,6,8] with a
 *                seeded generator (`--seed`, default 1); stripes fixed at 3 (auto would take
 *                the founder's draw); the slots of each peer are in `slotsPerPeer`
 * --fragile      direct only (see above)             --sizes a,b,c  scale only
 * --hosts N      lab only (default 50)
 * --load N       steady only: N CPU-bound processes (busy loops) beside the peers over the
 *                window, a loaded machine; the name gets -load<N>, the figures `load`
 * A flag that does not exist, a bad value, or a flag for another scenario is an error.
 * BENCH_LOGS=<folder> (steady, churn, direct): every peer's log (debug level, the last 5 000
 * lines of each) is written there.
 *
 * OVERLAY FIELDS (steady, churn, direct, lab; figures.ts computes them). Window = [t0, T]:
 * t0 one period after every peer stored a chunk, T = t0 + duration; then 3 s to settle.
 * - peers / peersStarted: alive at the end / ever started. chunks: sequences whose origin copy
 *   (earliest file of any folder) is in the window. lastSeq (L): the source's newest at T.
 * - lost: sum over survivors of the sequences in [its join point (smallest /status firstSeq it
 *   reported), L] without a file in its folder; lostPerSurvivor (ip -> lost), lostMaxPerSurvivor;
 *   chunksLostReportedByPeers: their own /status chunksLost.
 * - roundsMissed: server push rounds (its debug log) in [t0, T - period] whose chunk no survivor holds.
 * - latencyP50Ms / latencyP99Ms / latencyMaxMs: a peer's file mtime minus the server's push start
 *   of that chunk, every delivery in the window (a hung or killed parent's children included; a
 *   chunk made before its receiver started is not: a joiner's catch-up);
 *   latencyFromSource*: minus the origin file's mtime; latencyWorst: the 8 slowest deliveries (ip, seq, ms, atS).
 * - maxDepth: the largest /status maxDepth the coordinator reported over the run (source = 0);
 *   maxDepthInWindow; depthBound = ceil(log_f N) + 2 (N = peers at t0; f = min(slots, stripes),
 *   or with --mixed the mean over the non-direct peers of min(slots_i, stripes); N when f <= 1),
 *   depthBoundFanOut = f, maxDepthWithinBound; maxDepthWalked: deepest path found by walking each
 *   delivery's /status parents. hopP50Ms: child file mtime - parent's; serverHopP50Ms: push start ->
 *   source disk. idealLatencyMs = serverHopP50 + maxDepthInWindow x hopP50; latencyP99OverIdeal.
 * - jain / maxOverMean: Jain's index and max/mean of the chunk bytes (/status bytesSent, restarts
 *   counted) each peer sent over the window, over `balanceOver`: equal slots, every peer alive the
 *   whole window but the direct peer; --mixed, those of them with slots >= stripes. balancePeers,
 *   jainAllPeers (direct peer included), sentPerPeer (ip -> bytes, slots, source). capacityEdges:
 *   the slots of the peers at t0 but the source; neededEdges = (N-1)·K - K (every peer but the
 *   source needs K edges, the source feeds K); capacityAllowsAll = capacityEdges >= neededEdges.
 * - idealSharePerPeer = (N-1)·B/N, B = bytes of the chunks of the window (one stream), N = peers at
 *   t0: the overlay carries (N-1) streams, split evenly over N peers. The direct peer must send
 *   every chunk at least once (B), so idealShareOthers = (N-2)·B/(N-1) is what each balanced peer
 *   should send; meanSentOverIdeal / maxOverIdeal compare with it; idealShareRule states it.
 * - reattachMsMax: max over every peer's last /status of maxReattachMs (failure -> a new parent's
 *   SUBSCRIBED). recoveries / recoveryMsMax / recoveryMsP50: lastReattachMs as sampled when it changes.
 * - falseSuspicions: over [t0, end], rises of a peer's /status silenceDetections not explained by
 *   an injected fault (steady: none is), plus coordinator-side removals of peers still running.
 *   A rise is explained when its poll interval overlaps [fault, fault + 3 s] (a hang: until 3 s
 *   after its SIGKILL) and detector and victim named each other in /status (or one was the
 *   coordinator). A removal: a running peer leaves the coordinator's members between two polls, or
 *   its log says "member removed" / "suspect did not answer PING" about a running peer.
 *   Parts: silenceDetections, silenceDetectionsExplained, silenceDetectionsUnexplained, removalsOfRunningPeers;
 *   the rule in falseSuspicionsRule.
 * - duplicateRatio: all chunk bytes the peers report sent / chunk bytes stored by all but the origin.
 *   With socket counting (compare): uploadPerDelivered = TCP bytes the peers' processes sent over
 *   [t0, end] (ss bytes_acked per socket, /status sockets excluded: chunks, control and framing) /
 *   chunk bytes stored by all but the origin over the same interval; uploadCountedBy; jainSocketRelays.
 * - cpuPctPerPeer(/Max), rssMbPerPeer(/Max): /proc over the window, per peer the sum of its holder
 *   and overlay processes (/status holderPid and pid), the source apart (sourceCpuPct, sourceRssMb);
 *   processesPerPeer. pssMbPerPeer: the same sum of PSS (smaps_rollup: pages shared by several
 *   processes, the node binary above all, counted once in all, split among them; RSS counts them
 *   in full in each process); rssMbPerProcessMax: the largest RSS of any one process of a relay.
 *   machineCpuPct: /proc/stat over the window, the whole machine.
 * - slots / mixed / slotsPerPeer; startupS (starting every peer), startFailures, stoppedEarly,
 *   statusPollErrors, warnings / serverWarnings (warn+error log lines counted), warnSamples, events.
 * churn adds: kills, hungRelay {ip, atS, stoppedForMs}, recoveryEvents.
 * direct adds: takeover {killed, coordinatorAfterS/newCoordinator, directAfterS/newDirect,
 *   sourceAfterS/newSource: seconds from the kill to a live peer's /status saying so}.
 * direct --fragile adds: channelAlive (no CHANNEL_STOPPED in the server's log and the direct
 *   peer's lastSeq grew over the last three periods: sourceSeqGrowth), channelStoppedLines,
 *   overlayKills, overlayRestartMs[] (SIGKILL -> a new overlay pid answers /status, polled every
 *   50 ms) and overlayRestartMsMax, receivingAgainMs[] (SIGKILL -> its folder holds a chunk newer
 *   than its newest before the kill), overlayKillDetail.
 *
 * SCALE FIELDS (per size, swarm-scale.ts). Window [tA, T] of `--duration` s (default 30) after
 * every peer (or, after 120 s, as many as did) stored a chunk; then 3 periods to settle.
 * - peersReceiving, startupS (spawning the swarms -> every peer stored a chunk; null if not
 *   all did), peerStartMs (one lone `relaytv peer`: spawn -> its 'peer started' line, after the
 *   window), swarmsDied, error (what did not hold; the other fields are still measured).
 * - lost (peers but the source, sequences in [max(window start, firstSeq), the source's lastSeq at
 *   T] without a file), lostMaxPerPeer; latencyP50Ms / P99 / Max: file mtime - the source's file
 *   mtime; hopP50Ms: - its /status parent's; maxDepth: the coordinator's; idealLatencyMs = maxDepth x hopP50.
 * - jain / maxOverMean: /status bytesSent over the window, every peer but the source.
 * - uploadPerDelivered: TCP bytes the swarm processes sent over [tA, end] (ss bytes_acked per
 *   socket, /status sockets excluded; fallback /proc/<pid>/io wchar minus chunk file writes;
 *   uploadCountedBy says which) / chunk bytes stored by all but the source over that interval.
 * - controlBytesPerPeerPerMin: mean /status controlBytesSent delta per peer per minute.
 * - machineCpuPct, cpuPctPerPeer (swarm CPU / peers), rssMbPerPeer (swarm RSS / peers hosted), rssMbPerProcess.
 *
 * POOL FIELDS: results[burst|rate100/pool|main] {seconds, chunksPerS, relayMiBps, loopDelayP50Ms /
 * P99 / Max (event-loop delay), heartbeatLateMaxMs / P99 (a 200 ms timer's lateness)}, medians of
 * 3; signUs (Ed25519 over signing.ts's signedBytes), verifyUs, sha256Us (2 MiB), sha256SampleUs
 * (the median sample chunk): medians of thousands of single calls (pool.ts).
 *
 * COMPARE FIELDS: relaytv {uploadPerDelivered (as above, socket counters), jain (socket bytes of
 * the relays), latencyP50Ms / P99 (origin disk -> receiver disk), lost, cpuPctPerPeer, rssMbPerPeer,
 * ...} and gossipsub {the same measures of its nodes, meshAtStart, publishErrors} (compare.ts).
 */
import { Argument, Command, InvalidArgumentError } from 'commander';
import { scaleOnce } from './swarm-scale';
import { ensureBuilt, writeResult, printTable, sleep } from './common';
import { steady, churn, direct, overlayPlots, OverlayArgs } from './scenarios';
import { runPool } from './pool';
import { runCompare } from './compare';
import { runLab } from './lab';
import { barChart, groupedBars } from './plot';

/** Parsed command line. */
interface Args extends OverlayArgs { scenario: string; sizes: number[]; hosts?: number }

/** Every scenario, in the order `all` runs them. */
const SCENARIOS = ['steady', 'churn', 'direct', 'scale', 'pool', 'compare', 'lab'] as const;
/** Flags that belong to some scenarios only. */
const ONLY: Record<string, readonly string[]> = {
  slots: ['steady', 'churn'], mixed: ['steady', 'churn'], seed: ['steady', 'churn'], fragile: ['direct'], sizes: ['scale'], hosts: ['lab'], load: ['steady'],
};

/** @brief A commander parser of a number in [min, max] (integers only when `int`). */
function num(flag: string, min: number, max: number, int = false): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || x < min || x > max || (int && !Number.isInteger(x))) {
      throw new InvalidArgumentError(`${flag} must be ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got '${v}'`);
    }
    return x;
  };
}

/** @brief Parses `--sizes 200,500,1000`. */
function sizeList(v: string): number[] {
  const each = num('--sizes', 2, 5000, true);
  return v.split(',').map((x) => each(x.trim()));
}

/** @brief Parses the command line (exits with commander's message on a bad one). */
function parseArgs(argv: string[]): Args {
  const program = new Command('bench')
    .description('relaytv benchmarks: each scenario writes bench-results/<name>.json (fields: bench/index.ts)')
    .addArgument(new Argument('[scenario]', 'what to run').choices([...SCENARIOS, 'all']).default('steady'))
    .option('--period <s>', 'seconds per chunk', num('--period', 0.1, 60))
    .option('--duration <s>', 'measured window, seconds', num('--duration', 1, 3600))
    .option('--peers <n>', 'peers', num('--peers', 2, 500, true))
    .option('--slots <s>', 'slots of every peer (steady, churn)', num('--slots', 0, 64, true), 2)
    .option('--mixed', 'slots drawn per peer from a seeded list (steady, churn)', false)
    .option('--seed <x>', 'seed of --mixed', num('--seed', 0, 2 ** 31, true), 1)
    .option('--fragile', "direct: the course server's rule, overlay-process kills", false)
    .option('--sizes <list>', 'scale: peers per size, comma-separated', sizeList, [200, 500, 1000])
    .option('--hosts <n>', 'lab: hosts', num('--hosts', 2, 1000, true))
    .option('--load <n>', 'steady: CPU-bound processes beside the peers over the window (a loaded machine)', num('--load', 0, 64, true))
    .showHelpAfterError()
    .parse(argv);
  const o = program.opts();
  const scenario = program.processedArgs[0] as string;
  for (const [flag, where] of Object.entries(ONLY)) {
    if (program.getOptionValueSource(flag) === 'cli' && scenario !== 'all' && !where.includes(scenario)) {
      program.error(`error: --${flag} applies to ${where.join(', ')} only, not ${scenario}`);
    }
  }
  if (o.mixed && program.getOptionValueSource('slots') === 'cli') program.error('error: --slots and --mixed exclude each other');
  return { scenario, period: o.period, duration: o.duration, peers: o.peers, slots: o.slots, mixed: o.mixed, seed: o.seed,
    fragile: o.fragile, sizes: o.sizes, hosts: o.hosts, load: o.load };
}

/** The scaling pictures: control bytes per member per minute, and latency p50/p99, against N. */
function scalePlots(rows: Record<string, unknown>[]): string[] {
  const ok = rows.filter((x) => typeof x.latencyP99Ms === 'number');
  if (!ok.length) return [];
  const sizes = ok.map((x) => `${x.size as number} peers`);
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return [
    barChart('scale-control.svg', 'control bytes per member per minute against N', sizes,
      ok.map((x) => num(x.controlBytesPerPeerPerMin) ?? 0), 'bytes / member / min'),
    groupedBars('scale-latency.svg', 'latency server push -> peer disk against N, ms', sizes,
      [{ label: 'p50', values: ok.map((x) => num(x.latencyP50Ms)) }, { label: 'p99', values: ok.map((x) => num(x.latencyP99Ms)) },
        { label: 'ideal (depth x hop)', values: ok.map((x) => num(x.idealLatencyMs)) }]),
  ];
}

/** @brief scale: one row per size, written after each (a size that fails is a row with `error`). */
async function scale(a: Args): Promise<void> {
  const periodS = a.period ?? 2;
  const rows: Record<string, unknown>[] = [];
  for (const n of a.sizes) {
    console.log(`[bench] scale: ${n} peers (${Math.ceil(n / 50)} swarm processes)`);
    try {
      rows.push({ size: n, ...(await scaleOnce(n, periodS, a.duration ?? 30)) });
    } catch (err) {
      rows.push({ size: n, error: (err as Error).message });
    }
    writeResult('scale', { scenario: 'scale', periodS, durationS: a.duration ?? 30, sizes: rows, plots: scalePlots(rows) });
    await sleep(2000);
  }
  console.log('\n=== scale ===');
  const cols = ['size', 'peersReceiving', 'startupS', 'peerStartMs', 'lost', 'latencyP50Ms', 'latencyP99Ms', 'idealLatencyMs', 'jain',
    'maxOverMean', 'uploadPerDelivered', 'controlBytesPerPeerPerMin', 'machineCpuPct', 'rssMbPerPeer', 'error'];
  console.table(rows.map((x) => Object.fromEntries(cols.map((c) => [c, x[c]]))));
}

/** @brief lab: runOverlay's figures on network namespaces, and the faults' own. */
async function lab(a: Args): Promise<void> {
  const { figures, raw, faults } = await runLab({ hosts: a.hosts ?? 50, periodS: a.period ?? 2, durationS: a.duration ?? 60 });
  const plots = overlayPlots('lab', raw);
  writeResult('lab', { scenario: 'lab', ...figures, faults, plots });
  printTable('lab', figures);
  console.log('\n=== lab: faults (detection from logs, repair from folders) ===');
  console.table(faults.map((f) => ({ kind: f.kind, detectionMs: f.detectionMs, repairMs: f.repairMs, interrupted: f.interrupted.length, interruptedMs: f.interruptedMs, maxLag: f.maxLag, unrepaired: f.unrepaired.length })));
  console.log('plots:', plots.join(' '));
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv);
  ensureBuilt();
  const run: Record<(typeof SCENARIOS)[number], (a: Args) => Promise<void>> = { steady, churn, direct, scale, pool: runPool, compare: runCompare, lab };
  const list = a.scenario === 'all' ? SCENARIOS.filter((s) => s !== 'lab') : [a.scenario as (typeof SCENARIOS)[number]];
  for (const s of list) {
    console.log(`[bench] ${s}`);
    await run[s](a);
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
