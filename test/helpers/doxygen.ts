/**
 * @file doxygen.ts
 * @brief Builds the Doxygen site the way `npm run docs` does, into a folder of the test's own.
 *
 * The project's Doxyfile is read from stdin with OUTPUT_DIRECTORY and WARN_LOGFILE overridden,
 * so a test never writes into docs/. The diagrams are not re-rendered here: the site uses the
 * committed docs/img/*.svg, as on a fresh clone (docs.test.ts checks they are current).
 */
import { execSync, spawnSync } from 'node:child_process';
import path from 'node:path';

/** The repository root. */
const ROOT = path.resolve(__dirname, '../..');

/** What a test needs to build the site (Debian's packages). */
export const DOXYGEN_INSTALL = 'apt-get install -y doxygen graphviz';

/** A built site. */
export interface Site {
  /** The HTML folder (index.html is the report). */
  html: string;
  /** Doxygen's warning log. */
  warningsLog: string;
}

/** Throws, saying what to install, unless doxygen runs. */
export function requireDoxygen(): void {
  const r = spawnSync('doxygen', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`doxygen is not installed (${DOXYGEN_INSTALL})`);
}

/** Runs doxygen with the project's Doxyfile into `outDir` (about 30 s on 2 cores). */
export function buildSite(outDir: string): Site {
  requireDoxygen();
  const warningsLog = path.join(outDir, 'doxygen-warnings.log');
  execSync(`( cat Doxyfile; echo "OUTPUT_DIRECTORY=${outDir}"; echo "WARN_LOGFILE=${warningsLog}" ) | doxygen -`, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
  return { html: path.join(outDir, 'html'), warningsLog };
}
