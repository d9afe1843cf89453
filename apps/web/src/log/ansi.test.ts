import { describe, expect, it } from 'vitest';
import { ANSI_16, DEFAULT_STYLE, parseAnsi, styleToCss, xterm256 } from './ansi.js';

const E = '\x1b';

/** The spans as [text, fg, bg, bold] for short assertions. */
function brief(text: string) {
  return parseAnsi(text).spans.map((s) => [s.text, s.style.fg, s.style.bg, s.style.bold]);
}

describe('parseAnsi', () => {
  it('leaves plain text as one default span', () => {
    const { spans, style } = parseAnsi('hello\tworld');
    expect(spans).toEqual([{ text: 'hello\tworld', style: DEFAULT_STYLE }]);
    expect(style).toBe(DEFAULT_STYLE);
  });

  it('applies the 16 colours, bright ones, bold and reset', () => {
    expect(brief(`a${E}[31mred${E}[0m b ${E}[1;92mok${E}[m`)).toEqual([
      ['a', null, null, false],
      ['red', '#cd3131', null, false],
      [' b ', null, null, false],
      ['ok', '#23d18b', null, true],
    ]);
    expect(brief(`${E}[44mx${E}[49my${E}[103mz`)).toEqual([
      ['x', null, ANSI_16[4], false],
      ['y', null, null, false],
      ['z', null, ANSI_16[11], false],
    ]);
  });

  it('reads 256-colour and truecolor forms, with ; and : separators', () => {
    expect(brief(`${E}[38;5;196ma${E}[48;5;244mb`)).toEqual([
      ['a', '#ff0000', null, false],
      ['b', '#ff0000', '#808080', false],
    ]);
    expect(brief(`${E}[38;2;1;2;3ma${E}[38:2::10:20:30mb${E}[38:5:21mc`)).toEqual([
      ['a', '#010203', null, false],
      ['b', '#0a141e', null, false],
      ['c', '#0000ff', null, false],
    ]);
    // parameters after an extended colour still apply
    expect(brief(`${E}[38;5;2;1mx`)).toEqual([['x', ANSI_16[2], null, true]]);
  });

  it('computes the xterm cube and greys', () => {
    expect(xterm256(1)).toBe(ANSI_16[1]);
    expect(xterm256(16)).toBe('#000000');
    expect(xterm256(21)).toBe('#0000ff');
    expect(xterm256(231)).toBe('#ffffff');
    expect(xterm256(232)).toBe('#080808');
    expect(xterm256(255)).toBe('#eeeeee');
  });

  it('ignores malformed colours without losing the text', () => {
    expect(brief(`${E}[38;5;300mx${E}[38;2;1;2mz`)).toEqual([['xz', null, null, false]]);
  });

  it('turns attributes off one by one', () => {
    const { spans } = parseAnsi(`${E}[1;3;4;7ma${E}[22;23;24;27mb`);
    expect(spans[0]!.style).toMatchObject({
      bold: true,
      italic: true,
      underline: true,
      inverse: true,
    });
    expect(spans[1]!.style).toEqual(DEFAULT_STYLE);
  });

  it('drops other escapes: cursor moves, erase, OSC titles and links, charsets, private modes', () => {
    const text =
      `${E}[2K${E}[1Gstart ${E}]0;title\x07${E}]8;;http://x${E}\\link${E}]8;;${E}\\ ` +
      `${E}(B${E}[?25lend${E}7${E}[?2004h\x08\x00!`;
    expect(parseAnsi(text).spans).toEqual([{ text: 'start link end!', style: DEFAULT_STYLE }]);
  });

  it('carries the style into the next line and merges spans of one style', () => {
    const first = parseAnsi(`${E}[32mgreen to the end`);
    expect(first.style.fg).toBe(ANSI_16[2]);
    const second = parseAnsi(`still${E}[0m plain`, first.style);
    expect(second.spans.map((s) => [s.text, s.style.fg])).toEqual([
      ['still', ANSI_16[2]],
      [' plain', null],
    ]);
    // an escape that changes nothing does not split the text
    expect(parseAnsi(`a${E}[39mb${E}[2Kc`).spans).toEqual([{ text: 'abc', style: DEFAULT_STYLE }]);
  });

  it('ends an unterminated escape at the end of the line', () => {
    expect(brief(`ok${E}[31`)).toEqual([['ok', null, null, false]]);
    expect(brief(`ok${E}]0;never ends`)).toEqual([['ok', null, null, false]]);
    expect(brief(`ok${E}`)).toEqual([['ok', null, null, false]]);
  });

  it('stays linear on hostile input', () => {
    // 200k parameters in one escape, then 100k unterminated OSC starts: each is scanned once
    const big = `${E}[${'1;'.repeat(200_000)}mX` + `${E}]`.repeat(100_000);
    // (a quadratic scan of this would not finish within the test timeout)
    const { spans } = parseAnsi(big);
    expect(spans.map((s) => s.text)).toEqual(['X']);
  });
});

describe('styleToCss', () => {
  it('writes colours and attributes, and swaps them for inverse', () => {
    expect(styleToCss(DEFAULT_STYLE)).toBe('');
    const { style } = parseAnsi(`${E}[1;31;42m`);
    expect(styleToCss(style)).toBe(
      `color:${ANSI_16[1]};background-color:${ANSI_16[2]};font-weight:bold;`,
    );
    const inv = parseAnsi(`${E}[7m`).style;
    expect(styleToCss(inv, '#eee', '#111')).toBe('color:#111;background-color:#eee;');
  });
});

describe('parseAnsi on random input', () => {
  /** A seeded PRNG (mulberry32). */
  function prng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('keeps exactly the visible text, in non-empty spans, whatever escapes surround it', () => {
    const rnd = prng(1234);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const num = () => String(Math.floor(rnd() * 300));
    for (let round = 0; round < 300; round++) {
      let input = '';
      let visible = '';
      const parts = 1 + Math.floor(rnd() * 30);
      for (let i = 0; i < parts; i++) {
        switch (Math.floor(rnd() * 6)) {
          case 0:
          case 1: {
            const text = Array.from({ length: Math.floor(rnd() * 12) }, () =>
              String.fromCharCode(0x20 + Math.floor(rnd() * 0x5f)),
            ).join('');
            input += text;
            visible += text;
            break;
          }
          case 2:
            input += `${E}[${Array.from({ length: Math.floor(rnd() * 6) }, num).join(pick([';', ':']))}m`;
            break;
          case 3:
            input += `${E}[${num()}${pick(['A', 'K', 'J', 'G', 'H', '?25l'.slice(-1)])}`;
            break;
          case 4:
            input += `${E}]0;${num()} title${pick(['\x07', `${E}\\`])}`;
            break;
          default:
            input += pick(['\x08', '\x00', '\x07', `${E}7`, `${E}(B`]);
        }
      }
      const { spans } = parseAnsi(input);
      expect(spans.map((s) => s.text).join('')).toBe(visible);
      for (const s of spans) expect(s.text.length).toBeGreaterThan(0);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.style).not.toBe(spans[i - 1]!.style);
    }
  });
});
