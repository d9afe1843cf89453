import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { nextTick } from 'vue';
import LogView from './LogView.vue';
import { LogModel } from './log-model.js';

const E = '\x1b';

/** Waits for the view's next frame (happy-dom runs requestAnimationFrame callbacks on a timer). */
const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));

describe('LogView', () => {
  it('renders a coloured log and only a window of a 50,000-line one', async () => {
    const model = new LogModel();
    model.push(`${E}[32mok${E}[0m first\n`);
    const w = mount(LogView, { props: { model }, attachTo: document.body });
    expect(w.findAll('.agola-log-line').map((l) => l.text())).toEqual(['1ok first']);
    expect(w.find('.agola-log-line span[style]').text()).toBe('ok');

    model.push(Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    await frame();
    const rows = w.findAll('.agola-log-line');
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(200);
    // following: the last line is in the DOM
    expect(rows.at(-1)?.text()).toBe('50001line 49999');
    w.unmount();
  });

  it('switches to another model', async () => {
    const a = new LogModel();
    a.push('from a\n');
    const b = new LogModel();
    b.push('from b\n');
    const w = mount(LogView, { props: { model: a }, attachTo: document.body });
    await w.setProps({ model: b });
    await nextTick();
    expect(w.findAll('.agola-log-line').map((l) => l.text())).toEqual(['1from b']);
    a.push('late a\n');
    await frame();
    expect(w.findAll('.agola-log-line').map((l) => l.text())).toEqual(['1from b']);
    w.unmount();
  });
});

describe('LogView follow button', () => {
  it('offers to follow the end once the reader scrolls up, and follows again on click', async () => {
    const model = new LogModel();
    model.push(Array.from({ length: 500 }, (_, i) => `l${i}`).join('\n') + '\n');
    const w = mount(LogView, { props: { model }, attachTo: document.body });
    expect(w.find('[data-testid=log-to-end]').exists()).toBe(false);
    const box = w.find('[data-testid=log-view]').element as HTMLElement;
    box.scrollTop = 100;
    box.dispatchEvent(new Event('scroll'));
    await nextTick();
    const button = w.find('[data-testid=log-to-end]');
    expect(button.exists()).toBe(true);
    await button.trigger('click');
    expect(w.find('[data-testid=log-to-end]').exists()).toBe(false);
    expect(box.scrollTop).toBeGreaterThan(100);
    w.unmount();
  });
});
