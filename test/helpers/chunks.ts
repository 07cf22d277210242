/**
 * @file chunks.ts
 * @brief Checks on a peer's chunk folder: the holes since it joined, and that its bytes are the
 * server's chunks in the server's order (SHA-256 against the content folder).
 *
 * File names are 8-digit sequence numbers (`NNNNNNNN.mkv`); the server loops over its content
 * `<name>_00000.mkv`, ... in order, so two chunks `d` sequence numbers apart are `d` content
 * files apart, modulo the number of files. Hashes are cached per file, so checking a folder
 * again after a fault reads only the new chunks.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { chunkFileName } from '../../src/content/folder';

/** The embedded sample our server plays by default. */
export const SAMPLE_DIR = path.resolve(__dirname, '../../assets/sample');

/**
 * @brief The sequences missing between the first and the last of a sorted list.
 * @param seqs Sorted sequence numbers (a folder's names are unique, so no duplicate).
 */
export function gaps(seqs: number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < seqs.length; i++) for (let s = seqs[i - 1] + 1; s < seqs[i]; s++) out.push(s);
  return out;
}

/**
 * @brief What counts as lost: every chunk a peer was due since the first of its current run
 * (`firstSeq` in its /status) that is not in its folder, up to its newest chunks but `inFlight`
 * (their neighbours may still be on the way, or being fetched by the repair scan). Chunks before
 * `firstSeq` were never due (it had not joined); one missing between `firstSeq` and its first
 * file counts, as does one missing later.
 * @param seqs Sorted sequences of its folder.
 * @param firstSeq Its first sequence this run, or null (nothing received: nothing due yet).
 * @param inFlight Newest sequences not judged yet.
 */
export function lost(seqs: number[], firstSeq: number | null, inFlight = 4): number[] {
  if (firstSeq === null) return [];
  const mine = seqs.filter((s) => s >= firstSeq);
  const settled = mine.slice(0, Math.max(0, mine.length - inFlight));
  if (settled.length === 0) return [];
  const before: number[] = [];
  for (let s = firstSeq; s < settled[0]; s++) before.push(s);
  return [...before, ...gaps(settled)];
}

/**
 * @brief Holes of a folder: sequences missing between its first and last chunk, except those
 * inside an allowed range (a host that was down between two runs) and the newest `inFlight`.
 * @param seqs Sorted sequences. @param allowed Ranges [from, to] (inclusive) that may be missing.
 * @param inFlight Newest sequences ignored (their neighbours may still be arriving).
 */
export function holes(seqs: number[], allowed: [number, number][] = [], inFlight = 4): number[] {
  const settled = seqs.slice(0, Math.max(0, seqs.length - inFlight));
  return gaps(settled).filter((s) => !allowed.some(([a, b]) => s >= a && s <= b));
}

/** Server order of the chunks in folders, from their bytes. */
export class ServerOrder {
  private index: Map<string, number> | null = null;
  private count = 0;
  private readonly cache = new Map<string, number>();

  /** @param content The server's content folder. */
  constructor(private readonly content = SAMPLE_DIR) {}

  /**
   * @brief Problems of `dir`'s chunks in `seqs`: a chunk that is no server file (corrupt), or
   * two chunks whose content files are not as far apart as their sequence numbers.
   * @param mustExist Whether a file gone meanwhile is a problem (it is when no player deletes).
   * @return One line per problem (empty when the folder is the server's stream).
   */
  async problems(dir: string, seqs: number[], mustExist = false): Promise<string[]> {
    const index = await this.load();
    const out: string[] = [];
    let prev: { seq: number; idx: number } | null = null;
    for (const seq of seqs) {
      const file = path.join(dir, chunkFileName(seq));
      let idx = this.cache.get(file);
      if (idx === undefined) {
        const bytes = await fs.readFile(file).catch(() => null);
        if (!bytes) {
          if (mustExist) out.push(`${dir}: chunk ${seq} listed, then gone`);
          continue; // deleted meanwhile by a player
        }
        idx = index.get(createHash('sha256').update(bytes).digest('hex')) ?? -1;
        this.cache.set(file, idx);
      }
      if (idx < 0) { out.push(`${dir}: chunk ${seq} is not a server file (corrupt)`); continue; }
      if (prev && idx !== (prev.idx + seq - prev.seq) % this.count) {
        out.push(`${dir}: chunk ${seq} (content ${idx}) does not follow chunk ${prev.seq} (content ${prev.idx}) in server order`);
      }
      prev = { seq, idx };
    }
    return out;
  }

  private async load(): Promise<Map<string, number>> {
    if (this.index) return this.index;
    const names = (await fs.readdir(this.content)).filter((n) => /_\d+\.mkv$/.test(n)).sort();
    const index = new Map<string, number>();
    for (const [i, n] of names.entries()) index.set(createHash('sha256').update(await fs.readFile(path.join(this.content, n))).digest('hex'), i);
    this.count = names.length;
    this.index = index;
    return index;
  }
}
