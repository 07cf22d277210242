/**
 * @file chromium.ts
 * @brief Debian's Chromium, headless, driven by playwright-core: prints the report to PDF
 * (tools/report-pdf.ts) and opens the site in test/system/docs.test.ts.
 *
 * playwright-core brings no browser (`npx playwright install` downloads one and cannot work
 * offline): it drives the system's Chromium through `executablePath`. The flags keep a headless
 * Chromium, started as root in a container, off the network: no sandbox (root), no GPU, no
 * QUIC, no first-run, background, component-update or sync traffic; playwright gives every
 * launch a new empty profile (--user-data-dir).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** What to install when Chromium is missing (Debian's package). */
export const CHROMIUM_INSTALL = 'apt-get install -y chromium';

/** The flags every launch adds (see the header). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The Chromium executable: $RELAYTV_CHROMIUM, else the first of chromium / chromium-browser
 * on PATH (Debian installs /usr/bin/chromium), else null.
 */
export function chromiumPath(): string | null {
  const forced = process.env.RELAYTV_CHROMIUM;
  if (forced) return existsSync(forced) ? forced : null;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of ['chromium', 'chromium-browser']) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (existsSync(file)) return file;
    }
  }
  return null;
}

/** Starts headless Chromium; throws, saying what to install, when there is none. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) {
    throw new Error(`Chromium not found (looked for chromium and chromium-browser on PATH, or $RELAYTV_CHROMIUM): ${CHROMIUM_INSTALL}`);
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}
