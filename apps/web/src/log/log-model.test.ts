import { describe, expect, it } from 'vitest';
import { ANSI_16 } from './ansi.js';
import { LogModel, lineText } from './log-model.js';

const enc = new TextEncoder();
const E = '\x1b';

describe('LogModel', () => {
  it('splits a stream into lines whatever the chunk boundaries', () => {
    const text = 'one\ntwo\r\nthree\n\nfive';
    // every way of cutting the text in two, and byte by byte
    for (let cut = 0; cut <= text.length; cut++) {
      const log = new LogModel();
      log.push(enc.encode(text.slice(0, cut)));
      log.push(enc.encode(text.slice(cut)));
      log.end();
      expect(log.text(), `cut at ${cut}`).toBe('one\ntwo\nthree\n\nfive');
      expect(log.lineCount).toBe(5);
    }
    const log = new LogModel();
    for (const b of enc.encode(text)) log.push(Uint8Array.of(b));
    log.end();
    expect(log.text()).toBe('one\ntwo\nthree\n\nfive');
  });

  it('decodes UTF-8 split across chunks', () => {
    const bytes = enc.encode('héllo ✓ 🚀\n');
    const log = new LogModel();
    for (let i = 0; i < bytes.length; i += 1) log.push(bytes.subarray(i, i + 1));
    log.end();
    expect(log.text()).toBe('héllo ✓ 🚀');
  });

  it('shows the partial last line while it grows, then completes it', () => {
    const log = new LogModel();
    log.push('done\nwork');
    expect(log.lineCount).toBe(2);
    expect(log.isPartial(1)).toBe(true);
    expect(lineText(log.line(1))).toBe('work');
    log.push('ing...');
    expect(lineText(log.line(1))).toBe('working...');
    log.push('\n');
    expect(log.lineCount).toBe(2);
    expect(log.isPartial(1)).toBe(false);
    log.end();
    expect(log.lineCount).toBe(2);
    expect(log.ended).toBe(true);
  });

  it('rewrites the current line on a lone \\r (progress bars), also across chunks', () => {
    const log = new LogModel();
    log.push('start\n 10%\r 50%\r');
    log.push('100%\ndone\r');
    log.push('\n');
    log.end();
    expect(log.text()).toBe('start\n100%\ndone');
  });

  it('carries colours across lines and across a \\r rewrite', () => {
    const log = new LogModel();
    log.push(`${E}[31mred\nstill red\rnow${E}[0m plain\n${E}[32mgreen\r`);
    log.push('over\n');
    log.end();
    expect(log.line(0).spans[0]!.style.fg).toBe(ANSI_16[1]);
    expect(log.line(1).spans.map((s) => [s.text, s.style.fg])).toEqual([
      ['now', ANSI_16[1]],
      [' plain', null],
    ]);
    // the green set in the dropped text still applies
    expect(log.line(2).spans.map((s) => [s.text, s.style.fg])).toEqual([['over', ANSI_16[2]]]);
  });

  it('breaks an endless line at maxLineLength', () => {
    const log = new LogModel({ maxLineLength: 10 });
    log.push('x'.repeat(25));
    log.push('y\n');
    expect(log.lines.map(lineText)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'xxxxxy']);
    expect(log.maxLength).toBe(10);
  });

  it('notifies once per push, ignores pushes after the end, and clears', () => {
    const log = new LogModel();
    let calls = 0;
    const off = log.subscribe(() => calls++);
    log.push('a\nb\nc\n');
    expect(calls).toBe(1);
    log.end();
    log.push('late\n');
    expect(calls).toBe(2);
    expect(log.text()).toBe('a\nb\nc');
    log.clear();
    expect(log.lineCount).toBe(0);
    expect(log.ended).toBe(false);
    off();
    log.push('x\n');
    expect(calls).toBe(3);
    expect(log.text()).toBe('x');
  });

  it('takes 50,000 lines in one chunk', () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `${E}[3${i % 8}mline ${i}${E}[0m`);
    const log = new LogModel();
    log.push(enc.encode(lines.join('\n') + '\n'));
    log.end();
    expect(log.lineCount).toBe(50_000);
    expect(lineText(log.line(49_999))).toBe('line 49999');
    expect(log.line(12_345).spans[0]!.style.fg).toBe(ANSI_16[1]);
  });
});
