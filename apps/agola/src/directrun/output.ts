import type { RunResponse } from '@agola-ts/gateway-client';

/** Where a followed run prints: task logs on stdout, progress and notes on stderr. */
export interface RunOutput {
  /** The labels logs will carry (so the prefixes line up from the first line). */
  labels(all: readonly string[]): void;
  /** A chunk of a task's step log; printed line by line, each prefixed by `label`. */
  log(label: string, text: string): void;
  /** Ends a log: a partial last line is printed. */
  flush(label: string): void;
  /** A note on stderr (one line). */
  note(line: string): void;
  /** The runs' latest state: a live progress line (TTY) or a line per task change. */
  progress(runs: readonly RunResponse[]): void;
  /** Ends the live progress line: its last state stays as a plain line. */
  done(): void;
}

/** A writable the output writes to (`process.stdout`, `process.stderr`). */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of {@link createRunOutput}. */
export interface RunOutputOptions {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Live progress line on stderr. @default `stderr.isTTY` */
  live?: boolean;
  /** ANSI colors on the log prefixes. @default `stdout.isTTY` and no `NO_COLOR` */
  color?: boolean;
  /** The clock (tests). @default Date.now */
  now?: () => number;
}

const SYMBOL: Record<string, string> = {
  notstarted: '○',
  running: '●',
  success: '✓',
  failed: '✗',
  stopped: '■',
  cancelled: '⊘',
  skipped: '–',
};

const COLORS = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

function seconds(from: string | null, to: string | null, now: number): string {
  if (!from) return '';
  const start = Date.parse(from);
  const end = to ? Date.parse(to) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return '';
  return `${Math.max(0, (end - start) / 1000).toFixed(1)}s`;
}

/** One task as the progress shows it: `build ✓ 1.2s`, `deploy ⏸ approval`. */
function taskCell(t: RunResponse['tasks'][string], now: number): string {
  if (t.waiting_approval) return `${t.name} ⏸ approval`;
  const sym = SYMBOL[t.status] ?? '?';
  const time =
    t.status === 'notstarted' || t.status === 'skipped'
      ? ''
      : seconds(t.start_time, t.end_time, now);
  return `${t.name} ${sym}${time ? ` ${time}` : ''}`;
}

/**
 * The task graph of a run on one line, level by level: tasks of one level side by side,
 * levels joined by arrows: `hello #3 running: build ✓ 1.2s → test ● 0.3s → publish ○`.
 */
export function progressLine(run: RunResponse, now: number = Date.now()): string {
  const levels = new Map<number, RunResponse['tasks'][string][]>();
  for (const t of Object.values(run.tasks)) {
    const l = levels.get(t.level) ?? [];
    l.push(t);
    levels.set(t.level, l);
  }
  const graph = [...levels.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, ts]) =>
      ts
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((t) => taskCell(t, now))
        .join(', '),
    )
    .join(' → ');
  const state = run.phase === 'finished' ? run.result : run.phase;
  return `${run.name} #${run.number} ${state}${graph ? `: ${graph}` : ''}`;
}

/**
 * The terminal output of `agola directrun start`: each log line is prefixed by its task
 * (`build | ...`, colored per task on a terminal), and the run's task graph is shown as a live
 * line at the bottom of stderr when stderr is a terminal, or as one line per task change when
 * it is not (CI logs, pipes).
 */
export function createRunOutput(options: RunOutputOptions): RunOutput {
  const { stdout, stderr } = options;
  const live = options.live ?? stderr.isTTY === true;
  const color = options.color ?? (stdout.isTTY === true && !Object.hasOwn(process.env, 'NO_COLOR'));
  const now = options.now ?? Date.now;
  const partial = new Map<string, string>();
  const colorOf = new Map<string, number>();
  const lastStatus = new Map<string, string>();
  let width = 0;
  let liveText = '';
  let shown = false;

  const clear = () => {
    if (live && shown) {
      stderr.write('\r\x1b[2K');
      shown = false;
    }
  };
  const redraw = () => {
    if (!live || liveText === '') return;
    // a terminal that reports no size (0) gets 80 columns
    const cols = stderr.columns && stderr.columns >= 20 ? stderr.columns : 80;
    const text =
      liveText.length > cols - 1 ? `${liveText.slice(0, Math.max(0, cols - 2))}…` : liveText;
    stderr.write(`\r\x1b[2K${text}`);
    shown = true;
  };
  const prefix = (label: string) => {
    if (label.length > width) width = Math.min(label.length, 24);
    const padded = label.padEnd(width);
    if (!color) return `${padded} | `;
    let c = colorOf.get(label);
    if (c === undefined) {
      c = COLORS[colorOf.size % COLORS.length] ?? 36;
      colorOf.set(label, c);
    }
    return `\x1b[${c}m${padded} |\x1b[0m `;
  };
  const writeLines = (label: string, lines: string[]) => {
    if (lines.length === 0) return;
    const p = prefix(label);
    clear();
    stdout.write(lines.map((l) => `${p}${l}\n`).join(''));
    redraw();
  };

  return {
    labels(all) {
      for (const l of all) if (l.length > width) width = Math.min(l.length, 24);
    },
    log(label, text) {
      const all = (partial.get(label) ?? '') + text;
      const lines = all.split('\n');
      partial.set(label, lines.pop() ?? '');
      writeLines(
        label,
        lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)),
      );
    },
    flush(label) {
      const rest = partial.get(label);
      partial.delete(label);
      if (rest) writeLines(label, [rest]);
    },
    note(line) {
      clear();
      stderr.write(`${line}\n`);
      redraw();
    },
    progress(runs) {
      if (live) {
        liveText = runs.map((r) => progressLine(r, now())).join('  ‖  ');
        clear();
        redraw();
        return;
      }
      for (const run of runs) {
        for (const [id, t] of Object.entries(run.tasks)) {
          const key = `${run.number}/${id}`;
          const status = t.waiting_approval ? 'waiting for approval' : t.status;
          if (lastStatus.get(key) === status) continue;
          const first = !lastStatus.has(key);
          lastStatus.set(key, status);
          if (first && status === 'notstarted') continue;
          const time = ['success', 'failed', 'stopped'].includes(status)
            ? ` (${seconds(t.start_time, t.end_time, now())})`
            : '';
          const label = runs.length > 1 ? `${run.name}/${t.name}` : t.name;
          stderr.write(`agola: task ${label} ${status}${time}\n`);
        }
      }
    },
    done() {
      // the last state of the graph stays on the screen as a plain line
      if (live && shown) stderr.write('\n');
      shown = false;
      liveText = '';
    },
  };
}
