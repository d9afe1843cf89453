export { createGitserver, parseGitRequestPath } from './gitserver.js';
export type { Gitserver, GitserverDeps, GitRequest } from './gitserver.js';
export {
  gitserverSchema,
  DEFAULT_REPOSITORY_CLEANUP_INTERVAL_MS,
  DEFAULT_REPOSITORY_REFS_EXPIRE_INTERVAL_MS,
} from './config.js';
export type { GitserverConfig } from './config.js';
export { checkRepoPath, resolveRepoPath, MAX_REPO_PATH_LENGTH } from './repo-path.js';
export type { ResolvedRepo } from './repo-path.js';
export { checkRawArgs, MAX_RAW_ARG_LENGTH } from './raw-file.js';
export { cleanRepos } from './cleaner.js';
export type { CleanResult } from './cleaner.js';
export { GitserverErrorCodes } from './codes.js';
export type { GitserverErrorCode } from './codes.js';
