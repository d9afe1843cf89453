import { describe, expect, it } from 'vitest';
import { canDoRunActions, isRunFinished, runActions, type Viewer } from './rights.js';

const alice = { id: 'u1', username: 'alice' };
const viewer = (orgs: [string, string][] = [], admin = false): Viewer => ({
  user: alice,
  orgs: orgs.map(([name, Role], i) => ({ Organization: { id: `o${i}`, name }, Role })),
  admin,
});

describe('canDoRunActions', () => {
  it('lets a user act on its own projects and direct runs only', () => {
    expect(canDoRunActions(viewer(), { kind: 'project', projectPath: 'user/alice/app' })).toBe(
      true,
    );
    expect(canDoRunActions(viewer(), { kind: 'project', projectPath: 'user/bob/app' })).toBe(false);
    expect(canDoRunActions(viewer(), { kind: 'user', userRef: 'alice' })).toBe(true);
    expect(canDoRunActions(viewer(), { kind: 'user', userRef: 'u1' })).toBe(true);
    expect(canDoRunActions(viewer(), { kind: 'user', userRef: 'bob' })).toBe(false);
  });

  it('needs the owner role in the org for org projects', () => {
    const p = { kind: 'project', projectPath: 'org/acme/group/app' } as const;
    expect(canDoRunActions(viewer([['acme', 'owner']]), p)).toBe(true);
    expect(canDoRunActions(viewer([['acme', 'member']]), p)).toBe(false);
    expect(canDoRunActions(viewer([['other', 'owner']]), p)).toBe(false);
    expect(canDoRunActions(viewer([], true), p)).toBe(true);
  });

  it('refuses anonymous viewers and paths it does not understand', () => {
    expect(
      canDoRunActions({ user: null, orgs: [] }, { kind: 'project', projectPath: 'user/alice/app' }),
    ).toBe(false);
    expect(canDoRunActions(viewer(), { kind: 'project', projectPath: 'alice' })).toBe(false);
    expect(canDoRunActions(viewer(), { kind: 'project', projectPath: 'team/alice/x' })).toBe(false);
  });
});

describe('runActions', () => {
  const base = {
    phase: 'running',
    stopping: false,
    can_restart_from_scratch: false,
    can_restart_from_failed_tasks: false,
    tasks_waiting_approval: ['t2'],
    tasks: { t1: { waiting_approval: false }, t2: { waiting_approval: true, approved: false } },
  };

  it('offers stop and approval on a running run, restart only as the API says', () => {
    expect(runActions(true, base)).toEqual({
      restartFromScratch: false,
      restartFromFailed: false,
      stop: true,
      cancel: false,
      approve: ['t2'],
    });
    expect(runActions(true, { ...base, stopping: true }).stop).toBe(false);
    const done = {
      ...base,
      phase: 'finished',
      can_restart_from_scratch: true,
      can_restart_from_failed_tasks: true,
    };
    expect(runActions(true, done)).toEqual({
      restartFromScratch: true,
      restartFromFailed: true,
      stop: false,
      cancel: false,
      approve: [],
    });
    expect(runActions(true, { ...base, phase: 'queued' }).cancel).toBe(true);
  });

  it('offers nothing without rights', () => {
    const done = {
      ...base,
      phase: 'finished',
      can_restart_from_scratch: true,
      can_restart_from_failed_tasks: true,
    };
    expect(runActions(false, done)).toEqual({
      restartFromScratch: false,
      restartFromFailed: false,
      stop: false,
      cancel: false,
      approve: [],
    });
    expect(runActions(false, base).approve).toEqual([]);
  });

  it('does not offer approving a task already approved', () => {
    const r = { ...base, tasks: { t2: { waiting_approval: true, approved: true } } };
    expect(runActions(true, r).approve).toEqual([]);
  });

  it('knows the finished phases', () => {
    expect(['finished', 'cancelled', 'setuperror'].map(isRunFinished)).toEqual([true, true, true]);
    expect(['queued', 'running'].map(isRunFinished)).toEqual([false, false]);
  });
});
