import { newError, wrap } from '@agola-ts/errors';
import { DbErrorCodes } from './codes.js';
import type { Db } from './db.js';
import type { Tx } from './tx.js';

/** One step of a schema: what to run to go from the previous version to `version`. */
export interface Migration {
  /** The schema version this migration produces: a positive integer, increasing along the list. */
  version: number;
  /**
   * A script of `;`-separated statements, or a function that runs its statements through the
   * transaction it is given. Either way it runs inside the migration's transaction. Do not
   * change `PRAGMA foreign_keys` here: sqlite ignores it inside a transaction.
   */
  up: string | ((tx: Tx) => Promise<void>);
  /** A short description for logs and errors (`add run phase index`). */
  description?: string;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Cancels the migration in progress (it rolls back); the ones already applied stay. */
  signal?: AbortSignal;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** The schema version before (0 for a new database). */
  from: number;
  /** The schema version now: the last migration's. */
  to: number;
  /** The versions applied by this call, in order (empty when the schema was up to date). */
  applied: number[];
}

const CREATE_DBVERSION =
  'create table if not exists dbversion (version integer not null, time timestamp not null)';

function validate(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const [i, m] of migrations.entries()) {
    if (!Number.isInteger(m.version) || m.version <= previous) {
      throw newError(
        `migration ${i}: version ${String(m.version)} must be an integer greater than ${previous}`,
        { code: DbErrorCodes.InvalidArgument },
      );
    }
    if (typeof m.up !== 'string' && typeof m.up !== 'function') {
      throw newError(`migration ${m.version}: up must be a string or a function`, {
        code: DbErrorCodes.InvalidArgument,
      });
    }
    previous = m.version;
  }
}

async function currentVersion(tx: Tx): Promise<number> {
  await tx.exec(CREATE_DBVERSION, [], { name: 'create table dbversion' });
  const row = await tx.get<{ version: number | null }>(
    'select max(version) as version from dbversion',
  );
  return row?.version ?? 0;
}

/**
 * Brings the schema to the last migration's version. The current version is the highest
 * `version` in the `dbversion` table (Agola's name and columns; a new database is at 0).
 * Every migration above it runs in its own write transaction, together with the insert of its
 * version row, so a failing migration leaves the schema and the version as they were and
 * the ones before it applied. Running it again is a no-op; concurrent calls (several
 * processes) apply each migration once.
 *
 * @throws `ERR_DB_INVALID_ARGUMENT` when versions are not positive increasing integers;
 * `ERR_DB_TOO_NEW` when the database's version is above the last migration's (written by
 * newer code); `ERR_DB_MIGRATION` when a migration fails (the cause says why).
 * @example
 * ```ts
 * await migrate(db, [
 *   { version: 1, up: 'create table user (id text primary key, name text not null, data blob);' },
 *   { version: 2, up: 'create index user_name on user (name);' },
 * ]);
 * ```
 */
export async function migrate(
  db: Db,
  migrations: readonly Migration[],
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  validate(migrations);
  const { signal } = options;
  const last = migrations.at(-1)?.version ?? 0;
  const from = await db.do(currentVersion, { signal });
  if (from > last) {
    throw newError(`database schema version ${from} is newer than this code's (${last})`, {
      code: DbErrorCodes.TooNew,
    });
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= from) continue;
    const what = m.description
      ? `migration ${m.version} (${m.description})`
      : `migration ${m.version}`;
    try {
      const ran = await db.do(
        async (tx) => {
          // Another process may have migrated since we read the version.
          if ((await currentVersion(tx)) >= m.version) return false;
          if (typeof m.up === 'string') await tx.execScript(m.up, { name: 'up script' });
          else await m.up(tx);
          await tx.exec(
            "insert into dbversion (version, time) values (?, strftime('%Y-%m-%d %H:%M:%f', 'now'))",
            [m.version],
          );
          return true;
        },
        { signal },
      );
      if (ran) applied.push(m.version);
    } catch (err) {
      throw wrap(err, what, { code: DbErrorCodes.Migration });
    }
  }
  return { from, to: Math.max(from, last), applied };
}
