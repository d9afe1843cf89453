export { RunconfigErrorCodes } from './codes.js';
export type { RunconfigErrorCode } from './codes.js';
export {
  ConfigValidationError,
  formatIssue,
  isConfigValidationError,
  configIssuesOf,
} from './errors.js';
export type { ConfigIssue } from './errors.js';
export { formatPath } from './path.js';
export type { PathSegment } from './path.js';
export type {
  Arch,
  CloneStep,
  Config,
  ConfigValue,
  Container,
  Depend,
  DependCondition,
  RegistriesAuth,
  RegistryAuth,
  RegistryAuthType,
  RestoreCacheStep,
  RestoreWorkspaceStep,
  Run,
  RunStep,
  Runtime,
  SaveCacheStep,
  SaveContent,
  SaveToWorkspaceStep,
  Step,
  StepType,
  Task,
  Volume,
  When,
  WhenCondition,
  WhenConditions,
} from './types.js';
export { CONFIG_FILE_PATHS, MAX_CONFIG_SIZE, formatOfPath } from './parse/format.js';
export type { ConfigFormat } from './parse/format.js';
export { parseConfig, parseConfigSync, validateConfig } from './parse/parse-config.js';
export type { ParseConfigOptions, ParseConfigSyncOptions } from './parse/parse-config.js';
export { createJsonnetExecutableEvaluator } from './parse/jsonnet.js';
export type { JsonnetEvaluator, JsonnetExecutableOptions } from './parse/jsonnet.js';
export type { Locator } from './decode/reader.js';
export { DEFAULT_SHELL, DEFAULT_WORKING_DIR, MAX_NAME_LENGTH } from './decode/config.js';
export { MAX_STEP_NAME_LENGTH } from './decode/steps.js';
export { isRegExpCondition } from './decode/when.js';
export { matchWhen, compileWhenRegExp } from './when.js';
export type { RefType, WhenTarget } from './when.js';
export { contextOfRef, whenTargetOf } from './ref.js';
export type { ConfigContext } from './ref.js';
export { parseQuantity } from './quantity.js';
export { findCycles } from './graph.js';
export { CLONE_STEP_NAME, cloneScript, cloneRunStep } from './plan/clone-script.js';
export { staticEnvironment, gitHostOfUrl } from './plan/static-env.js';
export type { StaticEnvironmentOptions } from './plan/static-env.js';
export { computeLevels } from './plan/levels.js';
export {
  CI_SKIP,
  SETUP_ERROR_RUN_NAME,
  planRuns,
  planRunTasks,
  planRunsFromFile,
  setupErrorRun,
} from './plan/plan-runs.js';
export type { PlanResult, PlanRunsOptions, PlanRunsFromFileOptions } from './plan/plan-runs.js';
export type {
  PlannedRun,
  RunConfigContainer,
  RunConfigRegistryAuth,
  RunConfigRestoreCacheStep,
  RunConfigRestoreWorkspaceStep,
  RunConfigRunStep,
  RunConfigSaveCacheStep,
  RunConfigSaveToWorkspaceStep,
  RunConfigStep,
  RunConfigTask,
  RunConfigTaskDepend,
} from './plan/types.js';
export { MAX_CACHE_KEY_SIZE, renderCacheKey } from './cache-key.js';
export type { CacheKeyOptions } from './cache-key.js';
