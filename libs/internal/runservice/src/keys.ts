/** The runservice's etcd keys (reference §7.4), relative to its `runservice/` prefix. */
export const etcdKeys = {
  runsDir: 'scheduler/runs/',
  run: (id: string) => `scheduler/runs/${id}`,
  runSequence: 'scheduler/runsequence',
  runEvents: 'scheduler/runevents',
  runEventSequence: 'scheduler/runeventsequence',
  changeGroupsDir: 'scheduler/changegroups/',
  changeGroup: (name: string) => `scheduler/changegroups/${name}`,
  changeGroupsMinRev: 'scheduler/changegroupsminrev',
  executorsDir: 'scheduler/executors/',
  executor: (id: string) => `scheduler/executors/${id}`,
  tasksDir: 'scheduler/tasks/',
  task: (id: string) => `scheduler/tasks/${id}`,
  ping: 'scheduler/ping',
  locks: {
    compactChangeGroups: 'scheduler/locks/compactchangegroups',
    cacheCleaner: 'scheduler/locks/cachecleaner',
    workspaceCleaner: 'scheduler/locks/workspacecleaner',
    taskUpdater: 'scheduler/locks/taskupdater',
    taskFetcher: (taskId: string) => `scheduler/locks/taskfetcher/${taskId}`,
  },
} as const;

/** The object storage paths of logs, workspace archives and caches (reference §7.7). */
export const ostKeys = {
  setupLog: (taskId: string) => `logs/${taskId}/data/setup.log`,
  stepLog: (taskId: string, step: number) => `logs/${taskId}/data/steps/${step}.log`,
  logsRun: (taskId: string, runId: string) => `logs/${taskId}/runs/${runId}`,
  logsDir: (taskId: string) => `logs/${taskId}/`,
  archivesDir: 'workspacearchives/',
  archive: (taskId: string, step: number) => `workspacearchives/${taskId}/data/${step}.tar`,
  archivesRun: (taskId: string, runId: string) => `workspacearchives/${taskId}/runs/${runId}`,
  cachesDir: 'caches/',
  cache: (key: string) => `caches/${key}.tar`,
} as const;

/** The longest cache key (`<cachePrefix>-<userKey>`), as Agola. */
export const MAX_CACHE_KEY_LENGTH = 200;

/** Keeps change groups younger than this many etcd revisions (as Agola). */
export const CHANGE_GROUP_MIN_REVISION_RANGE = 100n;
