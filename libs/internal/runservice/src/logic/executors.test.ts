import type { Executor, RunConfigTask } from '@agola-ts/types';
import { describe, expect, it } from 'vitest';
import { chooseExecutor, isExecutorAlive } from './executors.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();

const executorOK: Executor = {
  id: 'executorOK',
  listenURL: 'http://127.0.0.1:4001',
  archs: ['amd64'],
  active_tasks_limit: 2,
  active_tasks: 0,
  last_status_update_time: ago(1000),
};

function variant(id: string, patch: Partial<Executor>): Executor {
  return { ...structuredClone(executorOK), id, ...patch };
}

const rct: RunConfigTask = {
  id: 'task01',
  name: 'task01',
  level: 0,
  depends: {},
  runtime: { type: 'pod', arch: 'amd64', containers: [] },
};

const rctPrivileged: RunConfigTask = {
  ...rct,
  runtime: {
    type: 'pod',
    arch: 'amd64',
    containers: [{ image: 'a', privileged: true, entrypoint: '', volumes: [] }],
  },
};

const none = new Map<string, number>();
const choose = (
  executors: Executor[],
  task: RunConfigTask,
  counts: ReadonlyMap<string, number> = none,
) => chooseExecutor(executors, { runConfigTask: task, executorTaskCounts: counts, now: NOW })?.id;

describe('chooseExecutor (Agola scheduler table)', () => {
  it('chooses a single executor that fits', () => {
    expect(choose([executorOK], rct)).toBe('executorOK');
  });
  it('skips an executor without free task slots (reported active tasks)', () => {
    expect(choose([variant('full', { active_tasks: 2 })], rct)).toBeUndefined();
  });
  it('skips an executor not alive for more than 60 s', () => {
    expect(
      choose([variant('dead', { last_status_update_time: ago(120_000) })], rct),
    ).toBeUndefined();
  });
  it('skips an executor with a different arch', () => {
    expect(choose([variant('arm', { archs: ['arm64'] })], rct)).toBeUndefined();
  });
  it('chooses an executor with several archs when one matches', () => {
    expect(choose([variant('multi', { archs: ['amd64', 'arm64'] })], rct)).toBe('multi');
  });
  it('skips an executor not allowing the privileged containers the task needs', () => {
    expect(choose([executorOK], rctPrivileged)).toBeUndefined();
  });
  it('chooses an executor allowing privileged containers when needed', () => {
    const priv = variant('priv', { allow_privileged_containers: true });
    expect(choose([executorOK, priv], rctPrivileged)).toBe('priv');
  });
});

describe('chooseExecutor', () => {
  it('accepts any arch for a task without one, and an executor without archs then', () => {
    const noArch: RunConfigTask = { ...rct, runtime: { type: 'pod', containers: [] } };
    expect(choose([variant('bare', { archs: [] })], noArch)).toBe('bare');
    expect(choose([variant('bare', { archs: [] })], rct)).toBeUndefined();
  });

  it('honours the limit exactly with the executor tasks in etcd', () => {
    expect(choose([executorOK], rct, new Map([['executorOK', 1]]))).toBe('executorOK');
    expect(choose([executorOK], rct, new Map([['executorOK', 2]]))).toBeUndefined();
    // the larger of the two counts wins
    const reported = variant('executorOK', { active_tasks: 1 });
    expect(choose([reported], rct, new Map([['executorOK', 0]]))).toBe('executorOK');
    expect(choose([reported], rct, new Map([['executorOK', 3]]))).toBeUndefined();
  });

  it('places tasks one by one up to the limit when the caller counts each placement', () => {
    const counts = new Map<string, number>();
    const other = variant('other', { active_tasks_limit: 1 });
    const placed: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const e = choose([executorOK, other], rct, counts);
      placed.push(e);
      if (e !== undefined) counts.set(e, (counts.get(e) ?? 0) + 1);
    }
    expect(placed).toEqual(['executorOK', 'executorOK', 'other', undefined]);
  });

  it('reads counts from a plain record too, by own property only', () => {
    const pick = (counts: Record<string, number>) =>
      chooseExecutor([variant('constructor', {})], {
        runConfigTask: rct,
        executorTaskCounts: counts,
        now: NOW,
      })?.id;
    expect(pick({})).toBe('constructor');
    expect(pick({ constructor: 2 })).toBeUndefined();
  });

  it('treats no limit (0 or absent) as unlimited', () => {
    const counts = new Map([['u', 1000]]);
    expect(choose([variant('u', { active_tasks_limit: 0, active_tasks: 500 })], rct, counts)).toBe(
      'u',
    );
    expect(choose([variant('u', { active_tasks_limit: undefined })], rct, counts)).toBe('u');
  });

  it('takes the first fitting executor in the given order', () => {
    const a = variant('a', {});
    const b = variant('b', {});
    expect(choose([b, a], rct)).toBe('b');
    expect(choose([variant('dead', { last_status_update_time: ago(61_000) }), a], rct)).toBe('a');
  });
});

describe('isExecutorAlive', () => {
  it('is alive up to 60 s after the last heartbeat', () => {
    expect(isExecutorAlive(variant('x', { last_status_update_time: ago(60_000) }), NOW)).toBe(true);
    expect(isExecutorAlive(variant('x', { last_status_update_time: ago(60_001) }), NOW)).toBe(
      false,
    );
  });
  it('is not alive with an unreadable time', () => {
    expect(isExecutorAlive(variant('x', { last_status_update_time: 'yesterday' }), NOW)).toBe(
      false,
    );
  });
});
