/**
 * @file report-pdf.ts
 * @brief Prints the report (the Doxygen site's main page) to a PDF with headless Chromium.
 *
 * Usage: `npm run docs:pdf` (builds the site with `npm run docs`, then runs this), or
 * `node --import tsx tools/report-pdf.ts [SITE_DIR] [OUT.pdf]` on a site already built
 * (defaults: docs/html, docs/relaytv-report.pdf).
 *
 * How it works: Chromium opens SITE_DIR/index.html, waits until every image has loaded (a
 * missing figure is an error, not a blank space in the PDF) and prints with the print
 * stylesheet: Doxygen's own rules hide the header, the tree view and the search box, and
 * docs/doxygen-extra.css scales the figures to the page and keeps each one on a single page.
 * A4, page numbers in the footer.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './chromium';

/** The repository root. */
const ROOT = path.resolve(__dirname, '..');

/** Where `npm run docs:pdf` writes the PDF (ignored by git). */
export const DEFAULT_PDF = path.join(ROOT, 'docs', 'relaytv-report.pdf');

/** Prints `siteDir`/index.html to `out`; resolves with the PDF's size in bytes. */
export async function printReport(siteDir: string, out: string): Promise<number> {
  const index = path.join(siteDir, 'index.html');
  if (!existsSync(index)) throw new Error(`${index} does not exist: build the site first (npm run docs)`);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(index).href, { waitUntil: 'load' });
    // Doxygen's scripts add images after 'load' (the search box's): wait until each one settled.
    await page.waitForFunction(() => [...document.images].every((img) => img.complete), undefined, { timeout: 15_000 });
    const broken = await page.evaluate(() => [...document.images]
      .filter((img) => !img.complete || img.naturalWidth === 0)
      .map((img) => img.getAttribute('src')));
    if (broken.length > 0) throw new Error(`images that did not load in ${index}: ${broken.join(', ')}`);
    await page.emulateMedia({ media: 'print' });
    await page.pdf({
      path: out,
      format: 'A4',
      printBackground: true,
      margin: { top: '16mm', bottom: '18mm', left: '14mm', right: '14mm' },
      displayHeaderFooter: true,
      headerTemplate: '<span></span>',
      footerTemplate: '<div style="font-size:8px;width:100%;text-align:center;color:#666">relaytv report, page <span class="pageNumber"></span> of <span class="totalPages"></span></div>',
    });
  } finally {
    await browser.close();
  }
  return statSync(out).size;
}

/** CLI: `[SITE_DIR] [OUT.pdf]`. */
async function main(argv: string[]): Promise<void> {
  const site = path.resolve(argv[0] ?? path.join(ROOT, 'docs', 'html'));
  const out = path.resolve(argv[1] ?? DEFAULT_PDF);
  const size = await printReport(site, out);
  process.stdout.write(`${path.relative(process.cwd(), out) || out} (${Math.round(size / 1024)} KiB)\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  });
}
