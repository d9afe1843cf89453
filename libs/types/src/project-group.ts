import type { Visibility } from './common.js';

/** What a project group's parent is: a user or org for a root group, else a project group. */
export type ProjectGroupParentType = 'user' | 'org' | 'projectgroup';

/** The parent of a project group. */
export interface Parent {
  type: ProjectGroupParentType;
  id: string;
}

/**
 * A project group. Every user and org has a root one (empty name, parent the owner), created
 * with it.
 */
export interface ProjectGroup {
  id: string;
  /** Empty for a root group. */
  name: string;
  parent: Parent;
  visibility: Visibility;
  /** Unused version field of Agola's entities. */
  version?: string;
}
