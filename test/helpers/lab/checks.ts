/**
 * @file checks.ts
 * @brief What every lab test asserts of the hosts' folders: no hole since a host joined (a host
 * that crashed may miss what was produced while it was down), the server's bytes in server order.
 */
import type { Lab } from './lab';
import type { Progress } from './measure';
import { ServerOrder, holes } from '../chunks';
import { waitFor } from '../wait';

/** Per host: sequence ranges [from, to] it may miss (it was down then). */
export type Downtime = Map<number, [number, number][]>;

/**
 * @brief Host k was restarted after a crash: reads its new join point from /status, moves its
 * progress head there and allows as holes what it lacked from its head at the crash (chunks in
 * flight die with the process) up to the new join point (what was produced while it was down).
 * @param lastBefore Its progress head right after the crash. @return The new join point.
 */
export async function rejoined(lab: Lab, p: Progress, k: number, lastBefore: number, downtime: Downtime): Promise<number> {
  let first: number | null = null;
  await waitFor(async () => (first = (await lab.status(k).catch(() => null))?.firstSeq ?? null) !== null, 20_000, `${lab.ip(k)} to rejoin`);
  p.rejoined(k, first!);
  if (first! > lastBefore + 1) downtime.set(k, [...(downtime.get(k) ?? []), [lastBefore + 1, first! - 1]]);
  return first!;
}

/**
 * @brief Every problem of the hosts' folders: holes since each joined (outside its downtime),
 * chunks that are not the server's or not in server order, a host that stopped receiving.
 * @param hosts Hosts to check. @param since Live point they must all have passed (at least 2 more).
 */
export async function folderProblems(lab: Lab, order: ServerOrder, downtime: Downtime, hosts: number[], since = -1): Promise<string[]> {
  const out: string[] = [];
  for (const k of hosts) {
    const seqs = await lab.seqs(k);
    const h = holes(seqs, downtime.get(k));
    if (h.length) out.push(`${lab.ip(k)} has ${h.length} holes since it joined: ${h.slice(0, 12).join(',')} (first ${seqs[0]}, last ${seqs.at(-1)}${downtime.get(k) ? `, allowed while down: ${JSON.stringify(downtime.get(k))}` : ''})`);
    out.push(...await order.problems(lab.dir(k), seqs));
    if ((seqs.at(-1) ?? -1) < since + 2) out.push(`${lab.ip(k)} stopped receiving: last chunk ${seqs.at(-1)}, live point was ${since}`);
  }
  return out;
}
