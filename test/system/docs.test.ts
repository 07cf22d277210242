/**
 * @file docs.test.ts
 * @brief The documentation, built once with Doxygen and read as a reader and as a maintainer:
 * the API pages are complete, the report's diagrams are current, the site and the report in
 * headless Chromium show no raw markup, and the report prints to PDF.
 *
 * How it works: doxygen builds the site once, with the project's Doxyfile, into a temporary
 * OUTPUT_DIRECTORY (test/helpers/doxygen.ts), from the committed docs/img/*.svg as on a fresh
 * clone. Then
 * - the API: class pages exist, every source is listed and has a @file comment, no
 *   undocumented public symbol or doc warning in src/ or workers/ (failures name file:line), and
 *   docs/errors.md matches ERROR_CODES both ways;
 * - every docs/diagrams/*.dot is rendered in memory (tools/diagrams.ts) and compared with its
 *   committed SVG, and every one is used by docs/REPORT.md;
 * - every HTML page is read as text: each image it names was copied into the site, and no page
 *   holds diagram source or markup that Doxygen left unconverted (source listings excepted);
 * - Chromium (Debian's, through playwright-core: tools/chromium.ts) opens the main page, which
 *   is the report: every image really loaded (naturalWidth > 0, no failed request) and fits the
 *   text's width, the text a reader sees holds no raw markup, and the report's sections are
 *   all there (architecture, messages, states, the algorithms for (a), (b), (c), the figures);
 * - the report is printed to PDF the way `npm run docs:pdf` does.
 * Without doxygen, dot or chromium the run fails with the apt-get line that installs them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { ERROR_CODES } from '../../src/errors';
import { buildSite, type Site } from '../helpers/doxygen';
import { diagrams, graphvizVersion, stale, GRAPHVIZ_INSTALL } from '../../tools/diagrams';
import { chromiumPath, launchChromium, CHROMIUM_INSTALL } from '../../tools/chromium';
import { printReport } from '../../tools/report-pdf';

const root = path.resolve(__dirname, '../..');
const report = readFileSync(path.join(root, 'docs', 'REPORT.md'), 'utf8');
let out = '';
let site: Site;
let warnings: string[] = [];
let browser: Browser | undefined;

/** Every .ts file under `dir` (relative to the repo root). */
function sources(dir: string): string[] {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((n) => {
    const rel = path.join(dir, n);
    if (statSync(path.join(root, rel)).isDirectory()) return sources(rel);
    return n.endsWith('.ts') ? [rel] : [];
  });
}

/** Warnings of the log, one entry per warning (continuation lines joined), limited to `dirs`. */
function warningsIn(dirs: string[]): string[] {
  return warnings.filter((w) => dirs.some((d) => w.startsWith(path.join(root, d) + path.sep)));
}

/** A pattern whose presence in a page's text means a conversion failed, and why. */
interface Rule {
  re: RegExp;
  why: string;
}

/** Never legitimate anywhere, code included. */
const NEVER: Rule[] = [
  { re: /\\ilinebr/, why: "doxygen's internal line marker (a broken table row)" },
  { re: /```/, why: 'a Markdown code fence left as text' },
  {
    re: /^\s*(?:flowchart|graph)\s+(?:LR|RL|TB|TD|BT)\b|\b(?:stateDiagram(?:-v2)?|sequenceDiagram|classDiagram)\b|\bdigraph\s+\w*\s*\{|@startuml/m,
    why: 'diagram source shown as text (draw it in docs/diagrams/*.dot)',
  },
];

/** Not legitimate outside code (code may well show `<tag>` or `|---|`). */
const OUTSIDE_CODE: Rule[] = [
  { re: /<\/?(?:tt|tr|td|th|table|code|br|img|object|p|div|span|em|strong|b|i|a|h[1-6]|ul|ol|li|pre)\b[^>]*>/i, why: 'an HTML tag shown as text' },
  { re: /!\[[^\]]*\]\([^)]*\)/, why: 'a Markdown image left as text' },
  { re: /\|\s*:?-{3,}:?\s*\|/, why: 'a Markdown table left as text' },
  { re: /\\\|/, why: 'an escaped pipe shown with its backslash (in a table cell, keep `|` out of code spans)' },
];

/** The named HTML entities Doxygen writes, decoded (numeric ones are handled in `text`). */
const ENTITIES: Record<string, string> = {
  lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ', lsquo: "'", rsquo: "'",
  ldquo: '"', rdquo: '"', ndash: '-', mdash: '-', hellip: '...', times: 'x', copy: '(c)',
};

/**
 * The text a page shows: scripts, styles and comments dropped, tags removed, entities decoded
 * (so an escaped `&lt;tt&gt;` becomes the visible `<tt>`). `outsideCode` also drops code spans,
 * preformatted blocks and code-fragment lines.
 */
function text(html: string, outsideCode: boolean): string {
  let s = html.replace(/<script\b[\s\S]*?<\/script>|<style\b[\s\S]*?<\/style>|<!--[\s\S]*?-->/gi, ' ');
  if (outsideCode) s = s.replace(/<code\b[\s\S]*?<\/code>|<pre\b[\s\S]*?<\/pre>|<div class="line">[\s\S]*?<\/div>/gi, ' ');
  return s
    .replace(/<[^>]+>/g, '')
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&([a-z]+);/gi, (m, n: string) => ENTITIES[n] ?? m);
}

/** `rule.why: the matched text` for every rule that matches `s`. */
function violations(s: string, rules: Rule[]): string[] {
  return rules.flatMap(({ re, why }) => {
    const m = re.exec(s);
    return m ? [`${why}: ${JSON.stringify(s.slice(Math.max(0, m.index - 30), m.index + m[0].length + 30).replace(/\s+/g, ' '))}`] : [];
  });
}

/** The site's HTML pages (top level; Doxygen's CREATE_SUBDIRS is NO). */
const pages = (): string[] => readdirSync(site.html).filter((f) => f.endsWith('.html')).sort();

/** The images docs/REPORT.md shows, by base name (Doxygen copies them under that name). */
const reportImages = (): string[] => [...report.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((m) => path.basename(m[1]));

before(async () => {
  assert.ok(chromiumPath(), `Chromium is not installed (${CHROMIUM_INSTALL}); the test drives it through playwright-core`);
  assert.ok(graphvizVersion(), `Graphviz's dot is not installed (${GRAPHVIZ_INSTALL})`);
  out = mkdtempSync(path.join(tmpdir(), 'relaytv-docs-'));
  site = buildSite(out);
  const text = existsSync(site.warningsLog) ? readFileSync(site.warningsLog, 'utf8') : '';
  warnings = text.split('\n').reduce<string[]>((acc, line) => {
    if (/^\S.*:\d+: warning:/.test(line) || acc.length === 0) acc.push(line);
    else if (line.trim()) acc[acc.length - 1] += `\n${line}`;
    return acc;
  }, []).filter((w) => w.includes('warning:'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

test('class pages exist for real classes, with their members', () => {
  const page = path.join(site.html, 'classRelayError.html');
  assert.ok(existsSync(page), 'no class page for RelayError (src/errors.ts)');
  const html = readFileSync(page, 'utf8');
  assert.match(html, /code/, 'RelayError page lacks its `code` field');
  assert.match(html, /constructor/, 'RelayError page lacks its constructor');
  const globals = readFileSync(path.join(site.html, 'errors_8ts.html'), 'utf8');
  assert.match(globals, /relayError/, 'errors.ts page lacks the relayError factory');
});

test('every source file is listed', () => {
  const files = readFileSync(path.join(site.html, 'files.html'), 'utf8');
  const missing = [...sources('src'), ...sources('workers')].filter((f) => !files.includes(`>${path.basename(f)}<`));
  assert.deepEqual(missing, [], `files missing from the file list:\n${missing.join('\n')}`);
});

test('every source file has a @file comment (else doxygen cannot report its undocumented functions)', () => {
  const bare = [...sources('src'), ...sources('workers')].filter((f) => !/[@\\]file\b/.test(readFileSync(path.join(root, f), 'utf8')));
  assert.deepEqual(bare, [], `sources without a @file doc comment:\n${bare.join('\n')}`);
});

test('no undocumented classes or members in src/ and workers/', () => {
  const undoc = warningsIn(['src', 'workers']).filter((w) => /is not documented/.test(w));
  assert.equal(undoc.length, 0, `${undoc.length} undocumented symbol(s):\n${undoc.map((w) => w.replace(root + path.sep, '')).join('\n')}`);
});

test('no documentation errors (bad @param names, unknown commands) in src/ and workers/', () => {
  const bad = warningsIn(['src', 'workers']).filter((w) => !/is not documented/.test(w));
  assert.equal(bad.length, 0, `${bad.length} doc warning(s):\n${bad.map((w) => w.replace(root + path.sep, '')).join('\n')}`);
});

test('docs/errors.md and ERROR_CODES match both ways, and every code is raised or logged in src/', () => {
  const md = readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8');
  const rows = [...md.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]);
  const codes = Object.keys(ERROR_CODES);
  assert.deepEqual(codes.filter((c) => !rows.includes(c)), [], 'codes without a row in docs/errors.md');
  assert.deepEqual(rows.filter((r) => !codes.includes(r)), [], 'rows of docs/errors.md that are no code');
  assert.deepEqual(rows.filter((r, i) => rows.indexOf(r) !== i), [], 'codes with two rows');
  // Raised (relayError('X'), close('X')) or logged ({ code: 'X' }) by some file other than errors.ts.
  const files = (function walk(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name))
      : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  })(path.join(root, 'src')).filter((f) => !f.endsWith(path.join('src', 'errors.ts')));
  const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
  assert.deepEqual(codes.filter((c) => !text.includes(`'${c}'`)), [], 'codes nothing in src/ raises or logs');
});

test('every committed diagram SVG is what its docs/diagrams source renders, and the report uses each', () => {
  assert.ok(diagrams().length > 0, 'no docs/diagrams/*.dot');
  const bad = stale();
  assert.deepEqual(bad, [], `stale diagrams: run npm run docs:diagrams and commit docs/img\n${bad.join('\n')}`);
  const shown = new Set(reportImages());
  const unused = diagrams().filter((d) => !shown.has(`${d.name}.svg`)).map((d) => `docs/diagrams/${d.name}.dot`);
  assert.deepEqual(unused, [], `diagrams docs/REPORT.md does not show:\n${unused.join('\n')}`);
});

test('every image a page names was copied into the site', () => {
  const missing = pages().flatMap((page) => {
    const html = readFileSync(path.join(site.html, page), 'utf8');
    const refs = [...html.matchAll(/<(?:img|object|iframe)\b[^>]*?\b(?:src|data)="([^"]+)"/gi)].map((m) => m[1]);
    return refs
      .filter((ref) => !/^(?:[a-z]+:|#)/i.test(ref))
      .filter((ref) => !existsSync(path.join(site.html, decodeURIComponent(ref.split(/[?#]/)[0]))))
      .map((ref) => `${page}: ${ref}`);
  });
  assert.deepEqual(missing, [], `images not in the site (a Markdown image must be under the Doxyfile's IMAGE_PATH, docs/img):\n${missing.join('\n')}`);
});

test('no page shows diagram source or markup Doxygen did not convert', () => {
  const found = pages()
    .filter((page) => !page.endsWith('_source.html'))
    .flatMap((page) => {
      const html = readFileSync(path.join(site.html, page), 'utf8');
      return [...violations(text(html, false), NEVER), ...violations(text(html, true), OUTSIDE_CODE)].map((v) => `${page}: ${v}`);
    });
  assert.deepEqual(found, [], `raw markup in the site:\n${found.join('\n')}`);
});

test('the report in Chromium: every image loads and fits, no raw markup, every section there', async () => {
  assert.ok(browser, 'Chromium did not start');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(`${r.url()} (${r.failure()?.errorText ?? 'failed'})`));
  await page.goto(pathToFileURL(path.join(site.html, 'index.html')).href, { waitUntil: 'load' });
  const seen = await page.evaluate(() => {
    const contents = document.querySelector('div.contents');
    if (!contents) return null;
    const imgs = [...contents.querySelectorAll('img')].map((img) => ({
      src: img.getAttribute('src') ?? '',
      loaded: img.complete && img.naturalWidth > 0,
      width: img.getBoundingClientRect().width,
      room: (img.parentElement ?? contents).getBoundingClientRect().width,
    }));
    const objects = [...contents.querySelectorAll('object')].map((o) => o.getAttribute('data') ?? '');
    const headings = [...contents.querySelectorAll('h1, h2, h3')].map((h) => (h.textContent ?? '').trim());
    const all: string[] = [];
    const outside: string[] = [];
    const walk = document.createTreeWalker(contents, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest('script, style')) continue;
      all.push(n.textContent ?? '');
      if (!el.closest('code, pre, tt, div.fragment')) outside.push(n.textContent ?? '');
    }
    return { imgs, objects, headings, all: all.join('\n'), outside: outside.join('\n') };
  });
  await page.close();
  assert.ok(seen, 'the main page has no div.contents');

  const broken = seen.imgs.filter((i) => !i.loaded).map((i) => i.src);
  assert.deepEqual(broken, [], `images that did not load: ${broken.join(', ')}`);
  assert.deepEqual(failed, [], `failed requests:\n${failed.join('\n')}`);
  const loaded = new Set(seen.imgs.map((i) => path.basename(i.src)));
  const absent = reportImages().filter((name) => !loaded.has(name));
  assert.deepEqual(absent, [], `images of docs/REPORT.md not shown as <img> on the main page: ${absent.join(', ')}`);
  assert.deepEqual(seen.objects, [], 'an <object> crops a wide SVG: Doxygen makes one of an image alone in its paragraph; follow it with <br> and a caption line (see the comment at the top of docs/REPORT.md)');
  const overflowing = seen.imgs.filter((i) => i.width > i.room + 1).map((i) => `${i.src} (${Math.round(i.width)} px in ${Math.round(i.room)} px)`);
  assert.deepEqual(overflowing, [], `images wider than the text (docs/doxygen-extra.css scales them): ${overflowing.join(', ')}`);

  const raw = [...violations(seen.all, NEVER), ...violations(seen.outside, OUTSIDE_CODE)];
  assert.deepEqual(raw, [], `raw markup on the main page:\n${raw.join('\n')}`);

  const sections: [string, RegExp][] = [
    ['architecture', /architecture/i],
    ['messages', /messages/i],
    ['state diagrams', /state/i],
    ['algorithms', /algorithm/i],
    ['relay (a)', /relay.*\(a\)/i],
    ['fault tolerance (b)', /fault tolerance.*\(b\)/i],
    ['load balance (c)', /load balance.*\(c\)/i],
    ['measured figures', /measured/i],
  ];
  const lacking = sections.filter(([, re]) => !seen.headings.some((h) => re.test(h))).map(([name]) => name);
  assert.deepEqual(lacking, [], `sections missing from the report (headings: ${seen.headings.join(' | ')})`);
});

test('the report prints to a PDF (npm run docs:pdf)', async () => {
  const pdf = path.join(out, 'report.pdf');
  await printReport(site.html, pdf);
  const bytes = readFileSync(pdf);
  assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-', 'not a PDF');
  const pageCount = bytes.toString('latin1').match(/\/Type\s*\/Page\b/g)?.length ?? 0;
  assert.ok(pageCount >= 5, `the PDF has ${pageCount} page(s); the report alone is longer`);
});
