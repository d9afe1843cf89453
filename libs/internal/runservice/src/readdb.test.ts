import { openDb, type Db } from '@agola-ts/db';
import type { Run } from '@agola-ts/types';
import { afterEach, describe, expect, it } from 'vitest';
import { applyAction, migrateReadDb, queries } from './readdb.js';

let db: Db | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const run = (id: string, group: string, counter: number): Run => ({
  id,
  name: 'r',
  counter,
  group,
  phase: 'finished',
  result: 'success',
  tasks: {},
  archived: true,
});

/** A readdb holding runs with look-alike groups: a longer name, another case, LIKE wildcards. */
async function seeded(): Promise<Db> {
  db = await openDb(':memory:');
  await migrateReadDb(db);
  const runs = [
    run('r01', '/project/p1/branch/main', 1),
    run('r02', '/project/p1/branch/dev', 2),
    run('r03', '/project/p10/branch/main', 1),
    run('r04', '/project/P1/branch/main', 1),
    run('r05', '/project/p_/branch/main', 1),
    run('r06', '/project/p%/branch/main', 1),
    run('r07', '/project/p1', 3),
    run('r08', '/project/p10/branch/main', 2),
  ];
  await db.do(async (tx) => {
    for (const r of runs) {
      await applyAction(tx, {
        actionType: 'put',
        dataType: 'run',
        id: r.id,
        data: Buffer.from(JSON.stringify(r)),
      });
    }
  });
  return db;
}

describe('runservice readdb: runs by group prefix', () => {
  it('finds a run by group and counter under the prefix only, case-sensitively', async () => {
    const d = await seeded();
    const byCounter = (group: string, counter: number) =>
      d.do((tx) => queries.archivedRunByCounter(tx, group, counter), { readonly: true });
    expect((await byCounter('/project/p1', 1))?.id).toBe('r01');
    expect((await byCounter('/project/p1', 2))?.id).toBe('r02');
    expect((await byCounter('/project/p1', 3))?.id).toBe('r07');
    expect((await byCounter('/project/p1/branch/dev', 2))?.id).toBe('r02');
    expect(await byCounter('/project/p1/branch/dev', 1)).toBeUndefined();
    expect((await byCounter('/project/p10', 2))?.id).toBe('r08');
    expect((await byCounter('/project/P1', 1))?.id).toBe('r04');
    expect((await byCounter('/project/p_', 1))?.id).toBe('r05');
    expect((await byCounter('/project/p%', 1))?.id).toBe('r06');
    expect(await byCounter('/project/p', 1)).toBeUndefined();
    expect(await byCounter('/project/p1', 9)).toBeUndefined();
  });

  it('lists runs of several group prefixes', async () => {
    const d = await seeded();
    const list = (groups: string[]) =>
      d.do(
        async (tx) =>
          (
            await queries.archivedRuns(tx, {
              phases: [],
              results: [],
              groups,
              limit: 100,
              asc: true,
            })
          ).map((r) => r.id),
        { readonly: true },
      );
    expect(await list(['/project/p1'])).toEqual(['r01', 'r02', 'r07']);
    expect(await list(['/project/p_', '/project/p10'])).toEqual(['r03', 'r05', 'r08']);
    expect(await list(['/project/p%'])).toEqual(['r06']);
    expect(await list([])).toHaveLength(8);
  });
});
