/**
 * A virtualized log view: only the lines in (and just around) the visible part of a scroll box
 * are in the DOM, so a log of hundreds of thousands of lines scrolls and follows as smoothly
 * as a short one. Lines have one fixed height (monospace, no wrapping; long lines scroll
 * sideways). Rendering is batched to one pass per animation frame however fast lines arrive.
 *
 * Framework-free: it takes the scroll box element and a {@link LogModel}.
 */
import { styleToCss } from './ansi.js';
import type { LogLine, LogModel } from './log-model.js';

/** Options of {@link VirtualLogView}. */
export interface VirtualLogViewOptions {
  /** Height of a line in pixels (the CSS line-height the view sets). @default 18 */
  lineHeight?: number;
  /** Lines rendered above and below the visible ones. @default 30 */
  overscan?: number;
  /** Start following (keep the end in view as lines arrive). @default true */
  follow?: boolean;
  /** Used when the box has no layout height (not displayed yet, or a DOM without layout). @default 400 */
  fallbackHeight?: number;
  /** Schedules a render; the default is `requestAnimationFrame` (or a macrotask without it). */
  schedule?: (cb: () => void) => void;
  /** The first line number shown in the gutter. @default 1 */
  firstLineNumber?: number;
  /**
   * Sizes the box to its lines up to this height in pixels (a short log takes little room);
   * without it the box keeps the height its CSS gives it.
   */
  maxHeight?: number | (() => number);
  /** Called when following starts or stops (the reader scrolled up, or back to the end). */
  onFollowingChange?: (following: boolean) => void;
}

/** The lines in the DOM, `[first, end)`. */
export interface RenderedRange {
  first: number;
  end: number;
}

/**
 * Renders a {@link LogModel} into a scroll box.
 *
 * @example
 * ```ts
 * const view = new VirtualLogView(boxElement, model);
 * // ... later
 * view.destroy();
 * ```
 */
export class VirtualLogView {
  private followingValue: boolean;
  /** Render passes done (for tests and benchmarks). */
  renders = 0;

  private readonly lineHeight: number;
  private readonly overscan: number;
  private readonly fallbackHeight: number;
  private readonly schedule: (cb: () => void) => void;
  private readonly firstLineNumber: number;
  private readonly maxHeight: (() => number) | undefined;
  private readonly onFollowingChange: ((following: boolean) => void) | undefined;
  private readonly sizer: HTMLDivElement;
  private readonly rows: HTMLDivElement;
  /** Rendered rows by line index, with the line object they show. */
  private readonly rendered = new Map<number, { el: HTMLDivElement; line: LogLine }>();
  private range: RenderedRange = { first: 0, end: 0 };
  private pending = false;
  private destroyed = false;
  private lastScrollTop = 0;
  private readonly unsubscribe: () => void;
  private readonly onScroll = (): void => {
    const top = this.box.scrollTop;
    if (top < this.lastScrollTop - 1 && !this.atBottom()) this.setFollowing(false);
    else if (this.atBottom()) this.setFollowing(true);
    this.lastScrollTop = top;
    this.requestRender();
  };

  constructor(
    private readonly box: HTMLElement,
    private readonly model: LogModel,
    options: VirtualLogViewOptions = {},
  ) {
    this.lineHeight = options.lineHeight ?? 18;
    this.overscan = options.overscan ?? 30;
    this.fallbackHeight = options.fallbackHeight ?? 400;
    this.followingValue = options.follow ?? true;
    this.onFollowingChange = options.onFollowingChange;
    this.firstLineNumber = options.firstLineNumber ?? 1;
    const mh = options.maxHeight;
    this.maxHeight = mh === undefined ? undefined : typeof mh === 'number' ? () => mh : mh;
    this.schedule =
      options.schedule ??
      (typeof requestAnimationFrame === 'function'
        ? (cb) => void requestAnimationFrame(cb)
        : (cb) => void setTimeout(cb, 16));

    const doc = box.ownerDocument;
    box.classList.add('agola-log');
    box.style.overflow = 'auto';
    box.style.position = 'relative';
    this.sizer = doc.createElement('div');
    this.sizer.className = 'agola-log-sizer';
    this.sizer.style.position = 'relative';
    this.rows = doc.createElement('div');
    this.rows.className = 'agola-log-rows';
    this.rows.style.position = 'absolute';
    this.rows.style.left = '0';
    this.rows.style.right = '0';
    this.rows.style.top = '0';
    this.rows.style.lineHeight = `${this.lineHeight}px`;
    this.sizer.appendChild(this.rows);
    box.replaceChildren(this.sizer);
    box.addEventListener('scroll', this.onScroll, { passive: true });
    this.unsubscribe = model.subscribe(() => this.requestRender());
    this.render();
  }

  /** Whether the view keeps the last line in view as lines arrive (scrolling up stops it). */
  get following(): boolean {
    return this.followingValue;
  }

  private setFollowing(value: boolean): void {
    if (value === this.followingValue) return;
    this.followingValue = value;
    this.onFollowingChange?.(value);
  }

  /** The lines currently in the DOM. */
  get renderedRange(): RenderedRange {
    return { ...this.range };
  }

  /** Asks for a render at the next frame (many calls, one render). */
  requestRender(): void {
    if (this.pending || this.destroyed) return;
    this.pending = true;
    this.schedule(() => {
      this.pending = false;
      if (!this.destroyed) this.render();
    });
  }

  /** Renders now: sizes the content, scrolls to the end when following, updates the rows. */
  render(): void {
    this.renders++;
    const count = this.model.lineCount;
    const lh = this.lineHeight;
    const digits = String(count + this.firstLineNumber).length;
    const gutter = digits + 2;
    this.sizer.style.height = `${count * lh}px`;
    // wide enough for the longest line, so the horizontal scroll does not jump
    this.sizer.style.minWidth = `${this.model.maxLength + gutter + 2}ch`;
    this.rows.style.setProperty('--agola-log-gutter', `${gutter}ch`);
    if (this.maxHeight) {
      // room for the lines and a horizontal scrollbar, at least one line
      const h = Math.min(this.maxHeight(), Math.max(1, count) * lh + 16);
      this.box.style.height = `${h}px`;
    }
    const height = this.viewHeight();
    if (this.following) {
      const bottom = Math.max(0, count * lh - height);
      if (this.box.scrollTop !== bottom) this.box.scrollTop = bottom;
      this.lastScrollTop = this.box.scrollTop;
    }
    const top = Math.min(this.box.scrollTop, Math.max(0, count * lh - height));
    const first = Math.max(0, Math.floor(top / lh) - this.overscan);
    const end = Math.min(count, Math.ceil((top + height) / lh) + this.overscan);

    // drop rows out of range; (re)build the others only when their line changed
    for (const [i, r] of this.rendered) {
      if (i < first || i >= end) {
        r.el.remove();
        this.rendered.delete(i);
      }
    }
    let prev: HTMLDivElement | null = null;
    for (let i = first; i < end; i++) {
      const line = this.model.line(i);
      let r = this.rendered.get(i);
      if (!r || r.line !== line || r.el.dataset['width'] !== String(digits)) {
        const el: HTMLDivElement = this.renderLine(i, line, digits);
        if (r) r.el.replaceWith(el);
        r = { el, line };
        this.rendered.set(i, r);
      }
      // keep DOM order = line order (rows are absolutely placed, but copy/paste follows the DOM)
      const want: ChildNode | null = prev ? prev.nextSibling : this.rows.firstChild;
      if (want !== r.el) this.rows.insertBefore(r.el, want);
      prev = r.el;
    }
    this.rows.style.transform = `translateY(${first * lh}px)`;
    this.range = { first, end };
  }

  /** Scrolls to the last line and follows again. */
  scrollToEnd(): void {
    this.setFollowing(true);
    this.render();
  }

  /** Scrolls so that line `i` (0-based) is at the top; stops following. */
  scrollToLine(i: number): void {
    this.setFollowing(false);
    this.box.scrollTop = Math.max(0, i) * this.lineHeight;
    this.lastScrollTop = this.box.scrollTop;
    this.render();
  }

  /** Detaches from the model and the box. */
  destroy(): void {
    this.destroyed = true;
    this.unsubscribe();
    this.box.removeEventListener('scroll', this.onScroll);
    this.rendered.clear();
    this.sizer.remove();
  }

  private viewHeight(): number {
    if (this.box.clientHeight > 0) return this.box.clientHeight;
    const set = Number.parseFloat(this.box.style.height);
    return set > 0 ? set : this.fallbackHeight;
  }

  private atBottom(): boolean {
    const max = this.model.lineCount * this.lineHeight - this.viewHeight();
    return this.box.scrollTop >= max - this.lineHeight / 2;
  }

  private renderLine(i: number, line: LogLine, digits: number): HTMLDivElement {
    const doc = this.box.ownerDocument;
    const el = doc.createElement('div');
    el.className = 'agola-log-line';
    el.dataset['line'] = String(i);
    el.dataset['width'] = String(digits);
    el.style.height = `${this.lineHeight}px`;
    const num = doc.createElement('span');
    num.className = 'agola-log-ln';
    num.textContent = String(i + this.firstLineNumber);
    el.appendChild(num);
    for (const span of line.spans) {
      const css = styleToCss(span.style);
      if (!css) {
        el.appendChild(doc.createTextNode(span.text));
        continue;
      }
      const s = doc.createElement('span');
      s.style.cssText = css;
      // text only: a log never injects markup
      s.textContent = span.text;
      el.appendChild(s);
    }
    return el;
  }
}
