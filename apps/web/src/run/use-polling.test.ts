import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { defineComponent, h, nextTick, ref, shallowRef } from 'vue';
import { usePolling } from './use-polling.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A page that loads a "run" whose phase the test sets. */
function page(phases: string[], interval: number | (() => number) = 2000) {
  const data = shallowRef<{ phase: string }>();
  const error = ref<unknown>();
  let loads = 0;
  const reload = async () => {
    const phase = phases[Math.min(loads, phases.length - 1)] as string;
    loads++;
    if (phase === 'error') error.value = new Error('unreachable');
    else {
      error.value = undefined;
      data.value = { phase };
    }
  };
  const C = defineComponent({
    setup() {
      usePolling(
        data,
        error,
        reload,
        () => !data.value || data.value.phase !== 'finished',
        interval,
        5000,
      );
      return () => h('div');
    },
  });
  return { C, reload, loads: () => loads };
}

describe('usePolling', () => {
  it('takes the interval from a function at each answer (slower while live)', async () => {
    const live = ref(false);
    const p = page(['running'], () => (live.value ? 30_000 : 2000));
    const w = mount(p.C);
    await p.reload();
    await nextTick();
    // the 1st answer set a 2 s timer; the 2nd, given while live, a 30 s one
    live.value = true;
    await vi.advanceTimersByTimeAsync(2000);
    expect(p.loads()).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(p.loads()).toBe(2);
    await vi.advanceTimersByTimeAsync(28_000);
    expect(p.loads()).toBe(3);
    w.unmount();
  });

  it('reloads every interval until the run finishes', async () => {
    const p = page(['running', 'running', 'finished']);
    const w = mount(p.C);
    await p.reload();
    await nextTick();
    expect(p.loads()).toBe(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(p.loads()).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(p.loads()).toBe(3);
    // finished: no more loads
    await vi.advanceTimersByTimeAsync(20_000);
    expect(p.loads()).toBe(3);
    w.unmount();
  });

  it('retries after an error at the slower interval, and stops when the page goes away', async () => {
    const p = page(['running', 'error', 'running']);
    const w = mount(p.C);
    await p.reload();
    await vi.advanceTimersByTimeAsync(2000);
    expect(p.loads()).toBe(2);
    await vi.advanceTimersByTimeAsync(4000);
    expect(p.loads()).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.loads()).toBe(3);
    w.unmount();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(p.loads()).toBe(3);
  });
});
