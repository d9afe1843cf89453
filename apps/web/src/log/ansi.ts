/**
 * ANSI escape sequences in log text: SGR (`ESC [ ... m`) colours and attributes become styled
 * spans; every other escape (cursor moves, erase, OSC titles and links, charset switches) and
 * every other control character but the tab is dropped.
 *
 * A single forward scan with no regular expression: time is linear in the input whatever it
 * holds (an unterminated escape costs no more than the text it swallows).
 */

/** The style of a piece of text. Colours are CSS colour strings, `null` for the default. */
export interface AnsiStyle {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
}

/** A piece of text in one style. */
export interface AnsiSpan {
  text: string;
  style: AnsiStyle;
}

/** The style of text with no SGR applied. */
export const DEFAULT_STYLE: Readonly<AnsiStyle> = Object.freeze({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
});

/** The 16 basic colours (VS Code's terminal palette: readable on a dark background). */
export const ANSI_16: readonly string[] = [
  '#000000',
  '#cd3131',
  '#0dbc79',
  '#e5e510',
  '#2472c8',
  '#bc3fbc',
  '#11a8cd',
  '#e5e5e5',
  '#666666',
  '#f14c4c',
  '#23d18b',
  '#f5f543',
  '#3b8eea',
  '#d670d6',
  '#29b8db',
  '#ffffff',
];

const CUBE = [0, 95, 135, 175, 215, 255];

/** The CSS colour of xterm colour `n` (0-255): 16 basic, a 6x6x6 cube, 24 greys. */
export function xterm256(n: number): string {
  if (n < 16) return ANSI_16[n] as string;
  if (n < 232) {
    const i = n - 16;
    return hex(CUBE[Math.floor(i / 36)] ?? 0, CUBE[Math.floor(i / 6) % 6] ?? 0, CUBE[i % 6] ?? 0);
  }
  const g = 8 + (n - 232) * 10;
  return hex(g, g, g);
}

function hex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** At most this many numeric parameters of one escape are read (the rest are skipped). */
const MAX_PARAMS = 64;

const ESC = 0x1b;

/**
 * Splits one line of log text into styled spans, starting from `style` (the style in force at
 * the end of the previous line, since a colour set on one line stays until reset). Returns
 * the spans (consecutive text of one style merged, no empty span) and the style at the end.
 *
 * @example
 * ```ts
 * const { spans } = parseAnsi('\x1b[1;31mfailed\x1b[0m: exit 1');
 * // [{ text: 'failed', style: { fg: '#cd3131', bold: true, ... } }, { text: ': exit 1', style: DEFAULT_STYLE }]
 * ```
 */
export function parseAnsi(
  text: string,
  style: Readonly<AnsiStyle> = DEFAULT_STYLE,
): { spans: AnsiSpan[]; style: Readonly<AnsiStyle> } {
  const spans: AnsiSpan[] = [];
  let cur: Readonly<AnsiStyle> = style;
  let buf = '';
  let runStart = 0;
  const flush = (end: number): void => {
    if (end > runStart) buf += text.slice(runStart, end);
    runStart = end;
    if (buf) {
      const last = spans[spans.length - 1];
      if (last && last.style === cur) last.text += buf;
      else spans.push({ text: buf, style: cur });
      buf = '';
    }
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f) {
      i++;
      continue;
    }
    if (c === 0x09) {
      i++;
      continue;
    }
    // a control character: end the plain run before it
    buf += text.slice(runStart, i);
    runStart = i;
    if (c !== ESC) {
      i++;
      runStart = i;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (next === 0x5b /* [ */) {
      // CSI: parameter bytes 0x30-0x3f, intermediate 0x20-0x2f, one final byte 0x40-0x7e
      let j = i + 2;
      while (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x3f) j++;
      const paramEnd = j;
      while (j < n && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
      const fin = j < n ? text.charCodeAt(j) : -1;
      if (fin === 0x6d /* m */ && paramEnd === j) {
        const next = applySgr(cur, text, i + 2, paramEnd);
        if (next !== cur) {
          // a new style: what came before keeps the old one
          flush(i);
          cur = next;
        }
      }
      // any other CSI (or a malformed one) is dropped; an unterminated one ends the line
      i = fin >= 0x40 && fin <= 0x7e ? j + 1 : j;
    } else if (next === 0x5d /* ] */ || next === 0x50 /* P */ || next === 0x5f || next === 0x5e) {
      // OSC, DCS, APC, PM: a string ended by BEL or ST (ESC \)
      let j = i + 2;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x07) {
          j++;
          break;
        }
        if (d === ESC && text.charCodeAt(j + 1) === 0x5c) {
          j += 2;
          break;
        }
        j++;
      }
      i = j;
    } else if (next >= 0x20 && next <= 0x2f) {
      // ESC with intermediates (charset designation `ESC ( B`): up to the final byte
      let j = i + 2;
      while (j < n && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
      i = Math.min(n, j + 1);
    } else {
      // a two-byte escape (ESC 7, ESC =, ...) or a lone ESC at the end
      i = Math.min(n, i + 2);
    }
    runStart = i;
  }
  flush(n);
  return { spans, style: cur };
}

/** Reads the SGR parameters in text[from, to) and returns the resulting style. */
function applySgr(
  style: Readonly<AnsiStyle>,
  text: string,
  from: number,
  to: number,
): Readonly<AnsiStyle> {
  // parameters: numbers split by ';'; ':' splits sub-parameters (`38:2::r:g:b`)
  const params: number[][] = [];
  let group: number[] = [];
  let num = -1;
  for (let k = from; k <= to && params.length < MAX_PARAMS; k++) {
    const c = k < to ? text.charCodeAt(k) : 0x3b;
    if (c >= 0x30 && c <= 0x39) {
      num = num < 0 ? c - 0x30 : Math.min(num * 10 + (c - 0x30), 1_000_000);
    } else if (c === 0x3a) {
      group.push(num);
      num = -1;
    } else if (c === 0x3b) {
      group.push(num);
      params.push(group);
      group = [];
      num = -1;
    } else {
      // private parameters (`?`, `<`...): not an SGR we know
      return style;
    }
  }
  const s: AnsiStyle = { ...style };
  for (let p = 0; p < params.length; p++) {
    const g = params[p] as number[];
    const code = Math.max(0, g[0] ?? 0);
    if (code === 38 || code === 48) {
      let colour: string | null | undefined;
      if (g.length > 1) {
        colour = extendedColour(g.slice(1), true);
      } else {
        // `38;5;n` / `38;2;r;g;b`: the colour takes the next parameters
        const kind = params[p + 1]?.[0];
        const count = kind === 5 ? 1 : kind === 2 ? 3 : 0;
        const args = params.slice(p + 1, p + 2 + count).map((x) => x[0] ?? -1);
        colour = extendedColour(args, false);
        p += 1 + count;
      }
      if (colour !== undefined) {
        if (code === 38) s.fg = colour;
        else s.bg = colour;
      }
      continue;
    }
    switch (true) {
      case code === 0:
        Object.assign(s, DEFAULT_STYLE);
        break;
      case code === 1:
        s.bold = true;
        break;
      case code === 2:
        s.dim = true;
        break;
      case code === 3:
        s.italic = true;
        break;
      case code === 4:
        s.underline = true;
        break;
      case code === 7:
        s.inverse = true;
        break;
      case code === 22:
        s.bold = false;
        s.dim = false;
        break;
      case code === 23:
        s.italic = false;
        break;
      case code === 24:
        s.underline = false;
        break;
      case code === 27:
        s.inverse = false;
        break;
      case code >= 30 && code <= 37:
        s.fg = ANSI_16[code - 30] as string;
        break;
      case code === 39:
        s.fg = null;
        break;
      case code >= 40 && code <= 47:
        s.bg = ANSI_16[code - 40] as string;
        break;
      case code === 49:
        s.bg = null;
        break;
      case code >= 90 && code <= 97:
        s.fg = ANSI_16[code - 90 + 8] as string;
        break;
      case code >= 100 && code <= 107:
        s.bg = ANSI_16[code - 100 + 8] as string;
        break;
      default:
      // blink, strike, fonts...: ignored
    }
  }
  return sameStyle(s, style) ? style : s;
}

/**
 * `[5, n]` or `[2, r, g, b]` (with sub-parameters also `[2, colourspace, r, g, b]`) to a CSS
 * colour; `undefined` when malformed (the escape changes nothing).
 */
function extendedColour(args: number[], sub: boolean): string | undefined {
  const [kind] = args;
  if (kind === 5) {
    const n = args[1] ?? -1;
    return n >= 0 && n <= 255 ? xterm256(n) : undefined;
  }
  if (kind === 2) {
    const rgb = sub && args.length >= 5 ? args.slice(2, 5) : args.slice(1, 4);
    if (rgb.length === 3 && rgb.every((c) => c >= 0 && c <= 255)) {
      return hex(rgb[0] as number, rgb[1] as number, rgb[2] as number);
    }
  }
  return undefined;
}

function sameStyle(a: AnsiStyle, b: Readonly<AnsiStyle>): boolean {
  return (
    a.fg === b.fg &&
    a.bg === b.bg &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.italic === b.italic &&
    a.underline === b.underline &&
    a.inverse === b.inverse
  );
}

/**
 * The inline CSS of a style (`''` for the default): colours, weight, decoration; inverse swaps
 * the colours (the defaults being `fallbackFg` / `fallbackBg`).
 */
export function styleToCss(
  style: Readonly<AnsiStyle>,
  fallbackFg = '#e5e5e5',
  fallbackBg = '#1e1e1e',
): string {
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) {
    fg = style.bg ?? fallbackBg;
    bg = style.fg ?? fallbackFg;
  }
  let css = '';
  if (fg) css += `color:${fg};`;
  if (bg) css += `background-color:${bg};`;
  if (style.bold) css += 'font-weight:bold;';
  if (style.dim) css += 'opacity:0.7;';
  if (style.italic) css += 'font-style:italic;';
  if (style.underline) css += 'text-decoration:underline;';
  return css;
}
