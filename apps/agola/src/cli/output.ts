import type { Command } from 'commander';
import { globalsOf } from './global-options.js';

/** One column of a human table: its header and how to get its text from a row. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

/** Writes text to stdout (the command's result). */
export function writeOut(text: string): void {
  process.stdout.write(text);
}

/**
 * Formats rows as a table: an upper-case header line, columns left-aligned and separated by
 * two spaces (the last one is not padded), one line per row, a final newline. Cell text is
 * kept on one line (newlines and tabs become spaces).
 */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cell = (v: string | number | boolean | null | undefined) =>
    v === null || v === undefined ? '' : String(v).replace(/[\t\n\r]/g, ' ');
  const lines = [
    columns.map((c) => c.header.toUpperCase()),
    ...rows.map((r) => columns.map((c) => cell(c.value(r)))),
  ];
  const widths = columns.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines
    .map((l) =>
      l
        .map((text, i) => (i === l.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((l) => `${l}\n`)
    .join('');
}

/** Formats a value as pretty JSON with a final newline (the `--json` output). */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Prints a list: as JSON with `--json`, else as a table of the given columns.
 *
 * @example
 * ```ts
 * printList(cmd, users, [{ header: 'name', value: (u) => u.username }, { header: 'id', value: (u) => u.id }]);
 * ```
 */
export function printList<T>(
  cmd: Command,
  rows: readonly T[],
  columns: readonly Column<T>[],
): void {
  writeOut(globalsOf(cmd).json ? formatJson(rows) : formatTable(rows, columns));
}

/**
 * Prints one entity: as JSON with `--json`, else as `key: value` lines of the given fields
 * (aligned), or `human` when the command has its own text.
 */
export function printItem<T>(
  cmd: Command,
  item: T,
  fields: readonly Column<T>[] | ((item: T) => string),
): void {
  if (globalsOf(cmd).json) return writeOut(formatJson(item));
  if (typeof fields === 'function') return writeOut(fields(item));
  const width = Math.max(0, ...fields.map((f) => f.header.length));
  writeOut(
    fields
      .map((f) => {
        const v = f.value(item);
        return `${`${f.header}:`.padEnd(width + 1)} ${v === null || v === undefined ? '' : String(v)}\n`;
      })
      .join(''),
  );
}

/**
 * Prints the result of an action without an entity to show (a delete, an update...): a
 * human sentence, or `{ "ok": true, ...extra }` with `--json`, so scripts always get JSON.
 */
export function printDone(
  cmd: Command,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  writeOut(globalsOf(cmd).json ? formatJson({ ok: true, ...extra }) : `${message}\n`);
}

/** Progress of a long wait, shown on stderr only when stderr is a terminal. */
export interface Progress {
  /** Replaces the progress line. */
  update(text: string): void;
  /** Clears the line (and prints `final` if given). */
  done(final?: string): void;
}

/**
 * A progress line on stderr (rewritten in place) when stderr is a TTY; silent otherwise,
 * so pipes and scripts get only the result.
 */
export function progress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  let shown = false;
  return {
    update(text) {
      if (!tty) return;
      stream.write(`\r\x1b[2K${text}`);
      shown = true;
    },
    done(final) {
      if (!tty) return;
      if (shown) stream.write('\r\x1b[2K');
      if (final) stream.write(`${final}\n`);
      shown = false;
    },
  };
}

/** `1.5 MiB`-style size text. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
