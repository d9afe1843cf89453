import type { Visibility } from './common.js';
import type { Augmented } from './project-group.js';

/** How a project reaches its repository (only `remotesource` is supported so far). */
export type RemoteRepositoryConfigType = 'remotesource' | 'manual';

/** The parent of a project: always a project group. */
export interface ProjectParent {
  type: 'projectgroup';
  id: string;
}

/** A project. */
export interface Project {
  id: string;
  name: string;
  /** Generated on create, never changed by an update. */
  secret?: string;
  parent: ProjectParent;
  visibility: Visibility;
  remote_repository_config_type: RemoteRepositoryConfigType;
  remote_source_id?: string;
  linked_account_id?: string;
  repository_id?: string;
  repository_path?: string;
  /** PEM. */
  ssh_private_key?: string;
  skip_ssh_host_key_check?: boolean;
  /** Generated on create, never changed by an update. */
  webhook_secret?: string;
  pass_vars_to_forked_pr?: boolean;
  /** Unused version field of Agola's entities. */
  version?: string;
}

/** A project as the configstore answers it. */
export type ProjectResponse = Project & Augmented;

/** Body of `POST /projects` and `PUT /projects/{ref}` (Go field names, as Agola's). */
export interface CreateUpdateProjectRequest {
  Name: string;
  /** `type` is `projectgroup`; `id` is a ref (id or path). */
  Parent: { type: 'projectgroup'; id: string };
  Visibility: Visibility;
  RemoteRepositoryConfigType: RemoteRepositoryConfigType;
  /** A remote source ref (id or name). */
  RemoteSourceID?: string;
  /** A linked account of the remote source. */
  LinkedAccountID?: string;
  RepositoryID?: string;
  RepositoryPath?: string;
  SSHPrivateKey?: string;
  SkipSSHHostKeyCheck?: boolean;
  PassVarsToForkedPR?: boolean;
}
