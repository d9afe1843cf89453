import type { FollowSink, SinkPosition, SinkTransaction } from './sink.js';

/** A {@link FollowSink} in memory (for tests of code that follows a datamanager, and tools). */
export interface MemorySink extends FollowSink {
  /** The entries: data type -> id -> data. */
  readonly entries: ReadonlyMap<string, ReadonlyMap<string, Buffer>>;
  /** Change group revisions. */
  readonly changeGroups: ReadonlyMap<string, bigint>;
  /** One entry, or undefined. */
  get(dataType: string, id: string): Buffer | undefined;
  /** How many transactions committed (for tests). */
  readonly commits: number;
}

/**
 * Creates an in-memory sink. Transactions are atomic: a throwing transaction leaves nothing
 * behind (changes are undone), and they run one at a time.
 */
export function createMemorySink(): MemorySink {
  const entries = new Map<string, Map<string, Buffer>>();
  const changeGroups = new Map<string, bigint>();
  let position: SinkPosition | undefined;
  let commits = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const byType = (dataType: string) => {
    let m = entries.get(dataType);
    if (!m) entries.set(dataType, (m = new Map()));
    return m;
  };

  return {
    entries,
    changeGroups,
    get: (dataType, id) => entries.get(dataType)?.get(id),
    get commits() {
      return commits;
    },
    position: async () => position,
    transaction<T>(fn: (tx: SinkTransaction) => Promise<T>): Promise<T> {
      const run = async () => {
        const undo: Array<() => void> = [];
        const setEntry = (dataType: string, id: string, data: Buffer | undefined) => {
          const m = byType(dataType);
          const old = m.get(id);
          undo.push(() => (old === undefined ? m.delete(id) : m.set(id, old)));
          if (data === undefined) m.delete(id);
          else m.set(id, data);
        };
        const setGroup = (name: string, rev: bigint | undefined) => {
          const old = changeGroups.get(name);
          undo.push(() =>
            old === undefined ? changeGroups.delete(name) : changeGroups.set(name, old),
          );
          if (rev === undefined) changeGroups.delete(name);
          else changeGroups.set(name, rev);
        };
        const oldPosition = position;
        const tx: SinkTransaction = {
          async reset() {
            const savedEntries = new Map([...entries].map(([t, m]) => [t, new Map(m)]));
            const savedGroups = new Map(changeGroups);
            undo.push(() => {
              entries.clear();
              for (const [t, m] of savedEntries) entries.set(t, m);
              changeGroups.clear();
              for (const [n, r] of savedGroups) changeGroups.set(n, r);
            });
            entries.clear();
            changeGroups.clear();
          },
          async applyEntry(entry) {
            setEntry(entry.dataType, entry.id, entry.data);
          },
          async applyAction(action) {
            setEntry(
              action.dataType,
              action.id,
              action.actionType === 'put' ? action.data : undefined,
            );
          },
          async replaceChangeGroups(groups) {
            for (const name of [...changeGroups.keys()])
              if (!groups.has(name)) setGroup(name, undefined);
            for (const [name, rev] of groups) setGroup(name, rev);
          },
          async setChangeGroup(name, revision) {
            setGroup(name, revision);
          },
          async setPosition(p) {
            position = p;
          },
        };
        try {
          const result = await fn(tx);
          commits++;
          return result;
        } catch (err) {
          for (const u of undo.reverse()) u();
          position = oldPosition;
          throw err;
        }
      };
      const next = queue.then(run, run);
      queue = next.catch(() => undefined);
      return next;
    },
  };
}
