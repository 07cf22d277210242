/**
 * @file state.ts
 * @brief What a peer keeps across a restart, in its chunk folder: where its overlay was, its
 * numbering as a source, and the source's signing key.
 *
 * A peer whose overlay process is restarted (its holder does it at once, PM2 too) must rejoin the
 * overlay it was in rather than found a second one, and, as the source again, continue the
 * numbering (never reuse a file name) and sign with the same key. The state is a hidden file
 * (`.relaytv-state.json`, which the player ignores) written atomically, at most one write in
 * flight per peer; the key is `.relaytv-source-key` (PKCS#8 PEM, mode 0600), made once.
 * Without a state file the newest chunk file on disk still dates the numbering.
 */
import { promises as fs, readFileSync, writeFileSync, renameSync, statSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync, createPrivateKey, createPublicKey } from 'node:crypto';
import { listPending, seqOfFileName } from '../content/folder';
import { rawPublicKey } from '../protocol/signing';
import { isCanonicalIp } from '../util/ip';
import type { MemberRef } from '../protocol/peer';
import { MAX_SEQ, STATE_MAX_AGE_MS } from '../constants';

/** The saved state. */
export interface SavedState {
  /** The coordinator of the overlay we were in (null: none known). */
  coordinator: MemberRef | null;
  /** Its successors. */
  successors: MemberRef[];
  /** Our last push as a source: its sequence and accept time (null: never a source here). */
  lastPush: { seq: number; ms: number } | null;
  /** When this was saved, ms. */
  savedMs: number;
}

/** The source's key pair as the pool and the wire use it. */
export interface SourceKey {
  /** PKCS#8 DER of the private key (for the workers). */
  privateDer: Buffer;
  /** The raw 32-byte public key (in UPDATEs). */
  publicRaw: Buffer;
}

const STATE = '.relaytv-state.json';
const KEY = '.relaytv-source-key';

/** @brief A ref read back from JSON, or null when it is not one. */
function refOf(x: unknown): MemberRef | null {
  const r = x as MemberRef;
  return r && typeof r === 'object' && isCanonicalIp(String(r.id)) && Number.isInteger(r.p2pPort) && Number.isInteger(r.httpPort)
    ? { id: r.id, p2pPort: r.p2pPort, httpPort: r.httpPort } : null;
}

/** One peer's state file. */
export class StateFile {
  private writing: Promise<void> = Promise.resolve();
  private pending: SavedState | null = null;

  /** @param dir Chunk folder (created here when missing). */
  constructor(private readonly dir: string) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch {
      // reported by the store's first write (DIR_UNWRITABLE); the peer still relays
    }
  }

  /** @brief Reads what a previous run left (an empty state on a first run). */
  async load(): Promise<SavedState> {
    const out: SavedState = { coordinator: null, successors: [], lastPush: null, savedMs: 0 };
    try {
      const j = JSON.parse(await fs.readFile(path.join(this.dir, STATE), 'utf8')) as Record<string, unknown>;
      out.coordinator = refOf(j.coordinator);
      out.successors = Array.isArray(j.successors) ? j.successors.map(refOf).filter((r): r is MemberRef => r !== null).slice(0, 8) : [];
      const lp = j.lastPush as { seq?: unknown; ms?: unknown } | null;
      if (lp && Number.isInteger(lp.seq) && (lp.seq as number) >= 0 && (lp.seq as number) <= MAX_SEQ && typeof lp.ms === 'number') out.lastPush = { seq: lp.seq as number, ms: lp.ms };
      if (typeof j.savedMs === 'number') out.savedMs = j.savedMs;
    } catch {
      // no state yet, or unreadable: a fresh start
    }
    // A crash before the first save: the newest chunk file tells where our numbering was, if
    // it is recent (an old folder, or one of another overlay, must not move the numbering).
    const files = await listPending(this.dir);
    const newest = files.length ? seqOfFileName(files[files.length - 1])! : -1;
    if (newest > (out.lastPush?.seq ?? -1)) {
      const mtime = await fs.stat(path.join(this.dir, files[files.length - 1])).then((st) => st.mtimeMs, () => 0);
      if (Date.now() - mtime < STATE_MAX_AGE_MS) out.lastPush = { seq: newest, ms: mtime };
    }
    return out;
  }

  /** @brief Saves the state (atomically; a save while one is in flight replaces the queued one). */
  save(state: SavedState): void {
    const first = this.pending === null;
    this.pending = state;
    if (!first) return;
    this.writing = this.writing.then(async () => {
      const s = this.pending!;
      this.pending = null;
      const tmp = path.join(this.dir, `${STATE}.tmp`);
      await fs.writeFile(tmp, JSON.stringify(s));
      await fs.rename(tmp, path.join(this.dir, STATE));
    }).catch(() => undefined);
  }

  /** @brief Resolves once every save so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }
}

/**
 * @brief The source key of this chunk folder, made on first use (synchronous: done once at start).
 * @param dir Chunk folder.
 */
export function loadOrCreateKey(dir: string): SourceKey {
  const file = path.join(dir, KEY);
  let pem: string;
  try {
    statSync(file);
    pem = readFileSync(file, 'utf8');
  } catch {
    pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    try {
      writeFileSync(`${file}.tmp`, pem, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    } catch {
      // an unwritable folder: the key lives for this run only (the store reports DIR_UNWRITABLE)
    }
  }
  const priv = createPrivateKey(pem);
  return { privateDer: priv.export({ format: 'der', type: 'pkcs8' }), publicRaw: rawPublicKey(createPublicKey(priv)) };
}
