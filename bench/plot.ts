/**
 * @file plot.ts
 * @brief A tiny hand-written SVG plotter (bar, CDF, timeline, side-by-side bars): no dependency.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { OUT } from './common';

const W = 720;
const H = 360;
const M = { l: 70, r: 20, t: 40, b: 60 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));

/** @brief Nice upper bound for an axis. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** @brief Frame, title, axis labels and y ticks. */
function frame(title: string, xLabel: string, yLabel: string, yMax: number, fmt = (v: number) => String(+v.toPrecision(3))): string {
  const ph = H - M.t - M.b;
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`;
  s += `<rect width="100%" height="100%" fill="white"/>`;
  s += `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`;
  s += `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`;
  s += `<text transform="translate(16,${M.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`;
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const y = M.t + ph - (ph * i) / 5;
    s += `<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#ddd"/>`;
    s += `<text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${fmt(v)}</text>`;
  }
  s += `<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" stroke="black"/>`;
  s += `<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="black"/>`;
  return s;
}

/** @brief Writes an SVG file into bench-results/ and returns its path. */
function save(name: string, svg: string): string {
  mkdirSync(OUT, { recursive: true });
  const p = path.join(OUT, name);
  writeFileSync(p, `${svg}</svg>\n`);
  return p;
}

/** @brief Bar chart of one value per label (e.g. bytes sent per peer), with a mean line. */
export function barChart(name: string, title: string, labels: string[], values: number[], yLabel: string, highlight: boolean[] = []): string {
  const yMax = niceMax(Math.max(...values, 0));
  let s = frame(title, 'peer', yLabel, yMax);
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const bw = pw / Math.max(1, values.length);
  values.forEach((v, i) => {
    const h = (ph * v) / yMax;
    const x = M.l + i * bw;
    s += `<rect x="${x + bw * 0.1}" y="${M.t + ph - h}" width="${bw * 0.8}" height="${h}" fill="${highlight[i] ? COLORS[1] : COLORS[0]}"/>`;
    s += `<text transform="translate(${x + bw / 2},${H - M.b + 8}) rotate(60)" font-size="9">${esc(labels[i])}</text>`;
  });
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const my = M.t + ph - (ph * mean) / yMax;
  s += `<line x1="${M.l}" x2="${W - M.r}" y1="${my}" y2="${my}" stroke="${COLORS[3]}" stroke-dasharray="4 3"/>`;
  s += `<text x="${W - M.r}" y="${my - 4}" text-anchor="end" fill="${COLORS[3]}">mean</text>`;
  return save(name, s);
}

/** @brief Empirical CDF of one or more series (x = value, y = fraction). */
export function cdfChart(name: string, title: string, series: { label: string; values: number[] }[], xLabel: string): string {
  const all = series.flatMap((x) => x.values);
  const xMax = niceMax(all.length ? Math.max(...all) : 1);
  let s = frame(title, xLabel, 'fraction of deliveries', 1);
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  for (let i = 0; i <= 5; i++) {
    const x = M.l + (pw * i) / 5;
    s += `<text x="${x}" y="${H - M.b + 14}" text-anchor="middle">${+(xMax * i / 5).toPrecision(3)}</text>`;
  }
  series.forEach((ser, j) => {
    const v = [...ser.values].sort((a, b) => a - b);
    if (!v.length) return;
    const step = Math.max(1, Math.floor(v.length / 400));
    const pts: string[] = [];
    for (let i = 0; i < v.length; i += step) pts.push(`${M.l + (pw * v[i]) / xMax},${M.t + ph - (ph * (i + 1)) / v.length}`);
    pts.push(`${M.l + (pw * v[v.length - 1]) / xMax},${M.t}`);
    s += `<polyline fill="none" stroke="${COLORS[j % COLORS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`;
    s += `<text x="${W - M.r - 200}" y="${M.t + 16 + 14 * j}" fill="${COLORS[j % COLORS.length]}">${esc(ser.label)} (n=${v.length})</text>`;
  });
  return save(name, s);
}

/** @brief Timeline: points (t, value) plus vertical event markers. */
export function timelineChart(name: string, title: string, points: { t: number; v: number; label?: string }[],
  marks: { t: number; label: string }[], tMax: number, yLabel: string): string {
  const yMax = niceMax(Math.max(1, ...points.map((p) => p.v)));
  let s = frame(title, 'time since t0 (s)', yLabel, yMax);
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const xOf = (t: number) => M.l + (pw * Math.max(0, t)) / tMax;
  for (let i = 0; i <= 6; i++) {
    s += `<text x="${M.l + (pw * i) / 6}" y="${H - M.b + 14}" text-anchor="middle">${+(tMax * i / 6).toFixed(0)}</text>`;
  }
  for (const m of marks) {
    s += `<line x1="${xOf(m.t)}" x2="${xOf(m.t)}" y1="${M.t}" y2="${H - M.b}" stroke="${COLORS[3]}" stroke-dasharray="3 3"/>`;
    s += `<text x="${xOf(m.t) + 3}" y="${M.t + 10}" fill="${COLORS[3]}" font-size="9">${esc(m.label)}</text>`;
  }
  for (const p of points) s += `<circle cx="${xOf(p.t)}" cy="${M.t + ph - (ph * p.v) / yMax}" r="4" fill="${COLORS[0]}"><title>${esc(p.label ?? '')} ${p.v}</title></circle>`;
  return save(name, s);
}

/** @brief Side-by-side bars: for each metric, one bar per system (values normalised per metric). */
export function groupedBars(name: string, title: string, metrics: string[], systems: { label: string; values: (number | null)[] }[]): string {
  let s = frame(title, 'metric (bars scaled to the larger of the two; labels are the raw values)', 'relative', 1, (v) => v.toFixed(1));
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const gw = pw / metrics.length;
  const bw = (gw * 0.8) / systems.length;
  metrics.forEach((m, i) => {
    const mx = Math.max(...systems.map((x) => Math.abs(x.values[i] ?? 0)), 1e-9);
    systems.forEach((sys, j) => {
      const v = sys.values[i];
      const h = v === null ? 0 : (ph * Math.abs(v)) / mx;
      const x = M.l + i * gw + gw * 0.1 + j * bw;
      s += `<rect x="${x}" y="${M.t + ph - h}" width="${bw * 0.9}" height="${h}" fill="${COLORS[j]}"/>`;
      s += `<text x="${x + bw * 0.45}" y="${M.t + ph - h - 3}" text-anchor="middle" font-size="9">${v === null ? 'n/a' : +v.toPrecision(3)}</text>`;
    });
    s += `<text x="${M.l + i * gw + gw / 2}" y="${H - M.b + 14}" text-anchor="middle" font-size="10">${esc(m)}</text>`;
  });
  systems.forEach((sys, j) => { s += `<text x="${M.l + 10 + 110 * j}" y="${M.t - 6}" fill="${COLORS[j]}">${esc(sys.label)}</text>`; });
  return save(name, s);
}
