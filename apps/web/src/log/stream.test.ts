import { describe, expect, it } from 'vitest';
import { LogModel } from './log-model.js';
import { streamInto } from './stream.js';

const enc = new TextEncoder();

async function* chunks(parts: string[], fail?: Error): AsyncGenerator<Uint8Array> {
  for (const p of parts) {
    await Promise.resolve();
    yield enc.encode(p);
  }
  if (fail) throw fail;
}

describe('streamInto', () => {
  it('feeds every chunk and ends the model with the stream', async () => {
    const model = new LogModel();
    expect(await streamInto(model, chunks(['a\nb', 'c\n', 'tail']))).toBe('ended');
    expect(model.ended).toBe(true);
    expect(model.text()).toBe('a\nbc\ntail');
  });

  it('leaves the model open when the stream breaks, with what arrived', async () => {
    const model = new LogModel();
    await expect(
      streamInto(model, chunks(['one\n', 'tw'], new Error('connection lost'))),
    ).rejects.toThrow('connection lost');
    expect(model.ended).toBe(false);
    expect(model.text()).toBe('one\ntw');
  });

  it('stops at an abort without ending the model or throwing', async () => {
    const model = new LogModel();
    const ctl = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield enc.encode('first\n');
      ctl.abort();
      yield enc.encode('second\n');
    }
    expect(await streamInto(model, slow(), ctl.signal)).toBe('aborted');
    expect(model.ended).toBe(false);
    expect(model.text()).toBe('first');
    const ctl2 = new AbortController();
    async function* breaks(): AsyncGenerator<Uint8Array> {
      yield enc.encode('x\n');
      ctl2.abort();
      throw new Error('aborted by the signal');
    }
    expect(await streamInto(new LogModel(), breaks(), ctl2.signal)).toBe('aborted');
  });
});

describe('streamInto slices', () => {
  it('feeds a big chunk in slices, yielding between them, with the same text', async () => {
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i} é✓`).join('\n') + '\n';
    const model = new LogModel();
    let notifications = 0;
    model.subscribe(() => notifications++);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    async function* one(): AsyncGenerator<Uint8Array> {
      yield enc.encode(text);
    }
    await streamInto(model, one(), undefined, { sliceSize: 1000 });
    clearInterval(timer);
    expect(model.text()).toBe(text.slice(0, -1));
    const slices = Math.ceil(enc.encode(text).length / 1000);
    // one push per slice, plus the end
    expect(notifications).toBe(slices + 1);
    // other timers ran between the slices
    expect(ticks).toBeGreaterThan(0);
  });
});
