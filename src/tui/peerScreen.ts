/**
 * @file peerScreen.ts
 * @brief The peer's own terminal screen: the seed's two management options, live.
 *
 * "List connections" (IP+port of who sends to this peer and of everyone it sends to, with
 * bytes) and "list received files" (the chunk files waiting to be shown), under a line with
 * direct/role/epoch/bytes. `c` and `f` focus those panels (arrows then scroll), `q`/Esc/C-c quit.
 * The screen reads the status through an injected getter once per interval; it owns one timer.
 */
import blessed from 'blessed';
import contrib from 'blessed-contrib';
import type { PeerStatus } from './types';
import { fmtBytes } from './model';

/** Options of the peer screen. */
export interface PeerScreenOptions {
  /** Called once when the user quits (q, Escape, C-c); the screen is already torn down. */
  onQuit: () => void;
  /** Refresh period, ms (default 1000). */
  intervalMs?: number;
}

/** A running peer screen. */
export interface PeerScreen {
  /** The blessed screen. */
  screen: blessed.Widgets.Screen;
  /** @brief Redraws from the status getter now. */
  refresh(): void;
  /** @brief Stops the timer and restores the terminal (idempotent). */
  destroy(): void;
}

/**
 * @brief The header line: identity, role and totals.
 * @param s The peer's status.
 * @return One line of text with blessed tags.
 */
export function headerLine(s: PeerStatus): string {
  return `{bold}peer ${s.id}{/bold}  channel ${s.channel}  direct ${s.direct ? 'yes' : 'no'}  role ${s.role}  ` +
    `epoch ${s.epoch}  slots ${s.slots}  sent ${fmtBytes(s.bytesSent)} (${fmtBytes(Math.round(s.rateSent))}/s)  ` +
    `received ${fmtBytes(s.bytesReceived)}  played ${s.played}  stalls ${s.stalls}`;
}

/**
 * @brief Rows of the connections panel: upstream ("from") first, then downstream ("to").
 * @param s The peer's status.
 * @return Table rows [direction, IP:port, bytes, stripes].
 */
export function connectionRows(s: PeerStatus): string[][] {
  const row = (dir: string) => (l: PeerStatus['upstream'][number]) => [dir, l.addr, fmtBytes(l.bytes), l.stripes.join(',') || '-'];
  return [...s.upstream.map(row('from')), ...s.downstream.map(row('to'))];
}

/**
 * @brief Opens the peer screen on the terminal.
 * @param getStatus Returns the peer's current status (called once per interval).
 * @param opts Quit handler and refresh period.
 * @return The running screen.
 */
export function startPeerScreen(getStatus: () => PeerStatus, opts: PeerScreenOptions): PeerScreen {
  const screen = blessed.screen({ smartCSR: true, title: 'relaytv peer', fullUnicode: true });
  const header = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 3, tags: true, border: { type: 'line' }, label: ' relaytv peer ' });
  const conns = contrib.table({
    top: 3, left: 0, width: '60%', height: '100%-4', label: ' Connections [c] ', keys: true, vi: true, interactive: true,
    columnSpacing: 2, columnWidth: [5, 22, 10, 10], fg: 'white', selectedFg: 'black', selectedBg: 'cyan', border: { type: 'line', fg: 'cyan' },
  } as never) as contrib.Widgets.TableElement;
  screen.append(conns);
  const files = blessed.list({
    parent: screen, top: 3, left: '60%', width: '40%', height: '100%-4', label: ' Received files waiting for display [f] ',
    keys: true, vi: true, border: { type: 'line' }, style: { border: { fg: 'white' }, selected: { bg: 'cyan', fg: 'black' } },
  });
  blessed.box({
    parent: screen, bottom: 0, left: 1, height: 1, width: 'shrink', tags: true,
    content: ' {bold}keys:{/bold} c connections   f files   Up/Down scroll   q / Esc / C-c quit ',
  });

  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  const focusOn = (which: 'c' | 'f') => {
    conns.style.border = { fg: which === 'c' ? 'cyan' : 'white' };
    files.style.border = { fg: which === 'f' ? 'cyan' : 'white' };
    (which === 'c' ? conns : files).focus();
    screen.render();
  };
  const refresh = () => {
    if (closed) return;
    const s = getStatus();
    header.setContent(headerLine(s));
    conns.setData({ headers: ['dir', 'IP:port', 'bytes', 'stripes'], data: connectionRows(s) });
    conns.setLabel(` Connections [c]: ${s.upstream.length} from, ${s.downstream.length} to `);
    files.setItems(s.pending.length ? s.pending : ['(none waiting)']);
    files.setLabel(` Received files waiting for display [f]: ${s.pending.length} `);
    screen.render();
  };
  const destroy = () => {
    if (closed) return;
    closed = true;
    if (timer) clearInterval(timer);
    screen.destroy();
  };
  screen.key(['c'], () => focusOn('c'));
  screen.key(['f'], () => focusOn('f'));
  screen.key(['q', 'C-c', 'escape'], () => { destroy(); opts.onQuit(); });
  focusOn('c');
  refresh();
  timer = setInterval(refresh, opts.intervalMs ?? 1000);
  return { screen, refresh, destroy };
}
