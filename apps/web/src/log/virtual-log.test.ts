// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { LogModel } from './log-model.js';
import { VirtualLogView } from './virtual-log.js';

const E = '\x1b';

/** Renders run on demand: the test decides when a frame happens. */
function manualFrames() {
  const queue: (() => void)[] = [];
  return {
    schedule: (cb: () => void) => void queue.push(cb),
    frame: () => {
      const cbs = queue.splice(0);
      for (const cb of cbs) cb();
      return cbs.length;
    },
  };
}

/** A scroll box; happy-dom has no layout, so the view uses its fallback height. */
function box(): HTMLDivElement {
  const el = document.createElement('div');
  document.body.appendChild(el);
  return el;
}

function lines(el: HTMLElement): string[] {
  return [...el.querySelectorAll('.agola-log-line')].map((l) =>
    [...l.childNodes]
      .slice(1)
      .map((n) => n.textContent)
      .join(''),
  );
}

afterEach(() => {
  document.body.replaceChildren();
});

describe('VirtualLogView', () => {
  it('keeps only the visible lines (plus overscan) in the DOM for a 50,000-line log', () => {
    const model = new LogModel();
    model.push(Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const el = box();
    const f = manualFrames();
    const view = new VirtualLogView(el, model, {
      fallbackHeight: 180,
      lineHeight: 18,
      overscan: 5,
      follow: false,
      schedule: f.schedule,
    });
    // 10 visible lines + 5 below
    expect(el.querySelectorAll('.agola-log-line')).toHaveLength(15);
    expect(lines(el)[0]).toBe('line 0');
    expect((el.querySelector('.agola-log-sizer') as HTMLElement).style.height).toBe(
      `${50_000 * 18}px`,
    );

    view.scrollToLine(25_000);
    const shown = lines(el);
    expect(shown).toHaveLength(20);
    expect(shown[0]).toBe('line 24995');
    expect(shown.at(-1)).toBe('line 25014');
    expect(view.renderedRange).toEqual({ first: 24_995, end: 25_015 });
    // rows are moved into place together
    expect((el.querySelector('.agola-log-rows') as HTMLElement).style.transform).toBe(
      `translateY(${24_995 * 18}px)`,
    );
    // line numbers in the gutter
    expect(el.querySelector('.agola-log-line .agola-log-ln')?.textContent).toBe('24996');
    view.destroy();
  });

  it('follows the end as lines arrive, rendering once per frame', () => {
    const model = new LogModel();
    const el = box();
    const f = manualFrames();
    const view = new VirtualLogView(el, model, {
      fallbackHeight: 90,
      lineHeight: 18,
      overscan: 0,
      schedule: f.schedule,
    });
    for (let i = 0; i < 100; i++) model.push(`l${i}\n`);
    const before = view.renders;
    expect(f.frame()).toBe(1);
    expect(view.renders).toBe(before + 1);
    expect(lines(el)).toEqual(['l95', 'l96', 'l97', 'l98', 'l99']);
    expect(el.scrollTop).toBe(100 * 18 - 90);
    // the partial line shows and then completes in place
    model.push('growing');
    f.frame();
    expect(lines(el).at(-1)).toBe('growing');
    model.push(' more\n');
    f.frame();
    expect(lines(el).at(-1)).toBe('growing more');
    view.destroy();
  });

  it('stops following when the reader scrolls up, and follows again at the end', () => {
    const model = new LogModel();
    model.push(Array.from({ length: 200 }, (_, i) => `l${i}`).join('\n') + '\n');
    const el = box();
    const f = manualFrames();
    const view = new VirtualLogView(el, model, {
      fallbackHeight: 90,
      lineHeight: 18,
      overscan: 0,
      schedule: f.schedule,
    });
    expect(view.following).toBe(true);
    el.scrollTop = 50 * 18;
    el.dispatchEvent(new Event('scroll'));
    expect(view.following).toBe(false);
    f.frame();
    expect(lines(el)[0]).toBe('l50');
    model.push('new\n');
    f.frame();
    // still where the reader is
    expect(el.scrollTop).toBe(50 * 18);
    expect(lines(el)[0]).toBe('l50');
    view.scrollToEnd();
    expect(view.following).toBe(true);
    expect(lines(el).at(-1)).toBe('new');
    view.destroy();
  });

  it('renders colours as styled spans and markup as text', () => {
    const model = new LogModel();
    model.push(`${E}[1;31merror${E}[0m: <img src=x onerror=alert(1)>\n`);
    const el = box();
    const view = new VirtualLogView(el, model, { schedule: () => undefined });
    const line = el.querySelector('.agola-log-line') as HTMLElement;
    const span = line.querySelector('span:not(.agola-log-ln)') as HTMLElement;
    expect(span.textContent).toBe('error');
    expect(span.style.color).toBeTruthy();
    expect(span.style.fontWeight).toBe('bold');
    expect(line.querySelector('img')).toBeNull();
    expect(lines(el)).toEqual(['error: <img src=x onerror=alert(1)>']);
    view.destroy();
  });

  it('reuses the rows of unchanged lines', () => {
    const model = new LogModel();
    model.push('a\nb\n');
    const el = box();
    const f = manualFrames();
    const view = new VirtualLogView(el, model, { schedule: f.schedule });
    const first = el.querySelector('.agola-log-line');
    model.push('c\n');
    f.frame();
    expect(el.querySelector('.agola-log-line')).toBe(first);
    expect(lines(el)).toEqual(['a', 'b', 'c']);
    view.destroy();
    expect(el.querySelector('.agola-log-line')).toBeNull();
    model.push('d\n');
    expect(f.frame()).toBe(0);
  });
});

describe('VirtualLogView maxHeight', () => {
  it('sizes the box to its lines, up to the maximum', () => {
    const model = new LogModel();
    model.push('a\nb\n');
    const el = box();
    const f = manualFrames();
    const view = new VirtualLogView(el, model, {
      lineHeight: 20,
      maxHeight: 200,
      schedule: f.schedule,
    });
    expect(el.style.height).toBe(`${2 * 20 + 16}px`);
    model.push(Array.from({ length: 100 }, () => 'x').join('\n'));
    f.frame();
    expect(el.style.height).toBe('200px');
    // the visible part is the box's height: 10 lines + overscan
    expect(view.renderedRange.end - view.renderedRange.first).toBe(10 + 30);
    view.destroy();
  });
});

describe('VirtualLogView onFollowingChange', () => {
  it('reports each change of following once', () => {
    const model = new LogModel();
    model.push(Array.from({ length: 200 }, (_, i) => `l${i}`).join('\n') + '\n');
    const el = box();
    const seen: boolean[] = [];
    const view = new VirtualLogView(el, model, {
      fallbackHeight: 90,
      lineHeight: 18,
      schedule: () => undefined,
      onFollowingChange: (f) => seen.push(f),
    });
    el.scrollTop = 10 * 18;
    el.dispatchEvent(new Event('scroll'));
    el.scrollTop = 5 * 18;
    el.dispatchEvent(new Event('scroll'));
    view.scrollToEnd();
    view.scrollToEnd();
    expect(seen).toEqual([false, true]);
    view.destroy();
  });
});
