/**
 * @file dashboard.ts
 * @brief The overlay dashboard (`relaytv dashboard`): blessed-contrib widgets fed by a Poller.
 *
 * Layout (12x12 grid): overlay edges | a gauge per peer (send rate against the fair share) |
 * bytes sent per peer (balance at a glance); send rates over time | pending files; log, with the
 * keys on the bottom line. Every widget is redrawn from the poller's latest round, once a second.
 */
import blessed from 'blessed';
import contrib from 'blessed-contrib';
import type { Poller, PollRound } from './poller';
import type { PeerStatus } from './types';
import { edges, fmtBytes, share, sharePercent } from './model';

/** Samples kept per peer for the rate chart (one per round). */
const HISTORY = 60;
/** Gauge height in rows; the gauge panel shows as many peers as fit. */
const GAUGE_ROWS = 3;
/** Colours given to peers in order. */
const COLORS = ['green', 'cyan', 'yellow', 'magenta', 'blue', 'red', 'white'];

/** A running dashboard. */
export interface Dashboard {
  /** The blessed screen. */
  screen: blessed.Widgets.Screen;
  /** @brief Redraws from a poll round. @param round The latest round. */
  update(round: PollRound): void;
  /** @brief Appends a line to the log panel. @param line Text. */
  log(line: string): void;
  /** @brief Tears the screen down (idempotent). */
  destroy(): void;
}

/** Options of the dashboard screen. */
export interface DashboardOptions {
  /** Source of status rounds; its events feed the log. */
  poller: Poller;
  /** Called once when the user quits (q, Escape, C-c). */
  onQuit: () => void;
}

/**
 * @brief Opens the dashboard on the terminal and follows the poller.
 * @param opts Poller and quit handler.
 * @return The running dashboard.
 */
export function startDashboard(opts: DashboardOptions): Dashboard {
  const screen = blessed.screen({ smartCSR: true, title: 'relaytv dashboard', fullUnicode: true });
  const grid = new contrib.grid({ rows: 12, cols: 12, screen });
  const overlay = grid.set(0, 0, 5, 5, contrib.table, {
    label: ' Overlay: upstream -> downstream ', keys: true, interactive: true, columnSpacing: 2,
    columnWidth: [13, 21, 10, 8], fg: 'white', selectedFg: 'black', selectedBg: 'cyan',
  }) as contrib.Widgets.TableElement;
  const gaugeBox = grid.set(0, 5, 5, 3, blessed.box, { label: ' Send rate vs share ' }) as blessed.Widgets.BoxElement;
  const bar = grid.set(0, 8, 5, 4, contrib.bar, {
    label: ' Bytes sent per peer (KB) ', barWidth: 5, barSpacing: 2, xOffset: 1, maxHeight: 10,
  }) as contrib.Widgets.BarElement;
  const line = grid.set(5, 0, 4, 8, contrib.line, {
    label: ' Send rate (KB/s) ', showLegend: true, legend: { width: 14 }, minY: 0, wholeNumbersOnly: false,
  }) as contrib.Widgets.LineElement;
  const pending = grid.set(5, 8, 4, 4, contrib.table, {
    label: ' Pending files ', keys: true, interactive: false, columnSpacing: 2, columnWidth: [12, 4, 26], fg: 'white',
  }) as contrib.Widgets.TableElement;
  const logBox = grid.set(9, 0, 3, 12, contrib.log, { label: ' Log ', fg: 'green' }) as contrib.Widgets.LogElement;
  blessed.box({
    parent: screen, bottom: 0, left: 1, height: 1, width: 'shrink', tags: true,
    content: ' {bold}keys:{/bold} q / Esc / C-c quit   r refresh now   Up/Down scroll overlay ',
  });

  const gauges = new Map<string, contrib.Widgets.GaugeElement>();
  const history = new Map<string, number[]>();
  const color = (id: string, ids: string[]) => COLORS[ids.indexOf(id) % COLORS.length];
  let closed = false;

  const gaugeFor = (id: string, index: number, stroke: string) => {
    let g = gauges.get(id);
    if (!g) {
      g = contrib.gauge({ top: index * GAUGE_ROWS, left: 0, height: GAUGE_ROWS, width: '100%-2', stroke, fill: 'white', label: id, showLabel: true } as never) as contrib.Widgets.GaugeElement;
      gaugeBox.append(g); // after construction: the canvas gets its context on 'attach'
      gauges.set(id, g);
    }
    return g;
  };

  const update = (round: PollRound) => {
    if (closed) return;
    const peers: PeerStatus[] = [...round.up.values()].sort((a, b) => a.id.localeCompare(b.id));
    const ids = peers.map((p) => p.id);
    const fair = share(peers);
    overlay.setData({
      headers: ['upstream', 'downstream', 'bytes', 'stripes'],
      data: edges(peers).map((e) => [e.from, e.to, fmtBytes(e.bytes), e.stripes.join(',') || '-']),
    });
    const fit = Math.max(1, Math.floor(((gaugeBox.height as number) - 2) / GAUGE_ROWS));
    peers.slice(0, fit).forEach((p, i) => {
      const g = gaugeFor(p.id, i, color(p.id, ids));
      g.setPercent(sharePercent(p.rateSent, fair));
      g.setLabel(` ${p.id} x${fair > 0 ? (p.rateSent / fair).toFixed(2) : '0.00'} `);
    });
    bar.setData({ titles: ids.map((id) => `.${id.split('.').pop()}`), data: peers.map((p) => Math.round(p.bytesSent / 1024)) });
    for (const p of peers) {
      const h = history.get(p.id) ?? [];
      h.push(Math.round(p.rateSent / 102.4) / 10);
      if (h.length > HISTORY) h.shift();
      history.set(p.id, h);
    }
    if (peers.length > 0) {
      const n = Math.max(...peers.map((p) => history.get(p.id)!.length));
      line.setData(peers.map((p) => {
        const y = history.get(p.id)!;
        const pad = [...Array(n - y.length).fill(0), ...y];
        return { title: p.id, x: pad.map((_, i) => `${i - n + 1}s`), y: pad, style: { line: color(p.id, ids) } };
      }));
    }
    pending.setData({
      headers: ['peer', 'n', 'next files'],
      data: peers.flatMap((p) => (p.pending.length ? p.pending.slice(0, 3).map((f, i) => [i ? '' : p.id, i ? '' : String(p.pending.length), f]) : [[p.id, '0', '-']])),
    });
    screen.render();
  };

  const log = (text: string) => { if (!closed) { logBox.log(`${new Date().toISOString().slice(11, 19)} ${text}`); screen.render(); } };
  const onUp = (a: string) => log(`${a} up`);
  const onDown = (a: string) => log(`${a} not answering`);
  const onFound = (a: string) => log(`discovered ${a}`);
  const onRound = (r: PollRound) => update(r);
  opts.poller.on('up', onUp).on('down', onDown).on('discovered', onFound).on('round', onRound);

  const destroy = () => {
    if (closed) return;
    closed = true;
    opts.poller.off('up', onUp).off('down', onDown).off('discovered', onFound).off('round', onRound);
    screen.destroy();
  };
  screen.key(['q', 'C-c', 'escape'], () => { destroy(); opts.onQuit(); });
  screen.key(['r'], () => { void opts.poller.poll(); });
  overlay.focus();
  log(`watching ${opts.poller.addrs.join(', ')}`);
  screen.render();
  return { screen, update, log, destroy };
}
