export { ExecutorErrorCodes } from './codes.js';
export type { ExecutorErrorCode } from './codes.js';
export { createSecretMasker, SECRET_MASK } from './masking.js';
export type { SecretMasker, SecretMaskerOptions } from './masking.js';
export { POD_LABELS } from './driver/types.js';
export type {
  Arch,
  ContainerConfig,
  ContainerExec,
  CopyInOptions,
  Driver,
  DriverLogger,
  ExecConfig,
  GetPodsOptions,
  NewPodOptions,
  Pod,
  PodConfig,
  RegistryAuth,
  SignalOptions,
  VolumeConfig,
} from './driver/types.js';
export { createLocalDriver } from './driver/local.js';
export type { LocalDriverConfig } from './driver/local.js';
export { entryPath, packPath, extractTo, sanitizeTar } from './tar.js';
export { createDockerDriver } from './driver/docker.js';
export { createDriver } from './driver/create-driver.js';
export type { DriverConfig } from './driver/create-driver.js';
export type { DockerDriverConfig } from './driver/docker.js';
export { expandDir, prepareWorkingDir, workingDirOf, LimitedCollector } from './steps/context.js';
export type { ArtifactStore, StepContext } from './steps/context.js';
export { archiveContents, unarchive } from './steps/archive.js';
export type { ArchiveContent } from './steps/archive.js';
export {
  runStep,
  saveToWorkspace,
  restoreWorkspace,
  saveCache,
  restoreCache,
  renderKey,
} from './steps/steps.js';
export type {
  RunStep,
  WorkspaceOperation,
  CacheStepOptions,
  SaveCacheStep,
  RestoreCacheStep,
} from './steps/steps.js';
export { createMemoryArtifactStore } from './steps/memory-store.js';
export type { MemoryArtifactStore } from './steps/memory-store.js';
export { createExecutor, DEFAULT_EXECUTOR_INTERVALS } from './service/executor.js';
export type {
  AgolaExecutor,
  ExecutorConfig,
  ExecutorDeps,
  ExecutorDriverConfig,
  ExecutorIntervals,
} from './service/executor.js';
export { createRunserviceArtifactStore } from './service/artifact-store.js';
export { SECRET_ENV_ANNOTATION, secretEnvNames, secretValues } from './service/secrets.js';
