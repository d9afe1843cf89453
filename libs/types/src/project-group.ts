import type { Visibility } from './common.js';

/** What a project group's parent is: a user or org for a root group, else a project group. */
export type ProjectGroupParentType = 'user' | 'org' | 'projectgroup';

/** The parent of a project group. */
export interface Parent {
  type: ProjectGroupParentType;
  id: string;
}

/**
 * A project group. Every user and org has a root one (no name, parent the owner), created
 * with it.
 */
export interface ProjectGroup {
  id: string;
  /** Absent for a root group (Agola omits empty fields); a valid name for any other. */
  name?: string;
  parent: Parent;
  visibility: Visibility;
  /** Unused version field of Agola's entities. */
  version?: string;
}

/** Who owns a project group or project: the parent of its root project group. */
export type OwnerType = 'user' | 'org';

/** What the configstore adds to a project group or project it answers. */
export interface Augmented {
  OwnerType: OwnerType;
  OwnerID: string;
  /** `org/<org>[/<group>...]` or `user/<user>[/<group>...]` (a project's ends with its name). */
  Path: string;
  /** The parent's path: the owner's (`user/alice`, `org/acme`) for a root group. */
  ParentPath: string;
  /** Private when the entity, an ancestor group or the owning org is private. */
  GlobalVisibility: Visibility;
}

/** A project group as the configstore answers it. */
export type ProjectGroupResponse = ProjectGroup & Augmented;

/** Body of `POST /projectgroups` and `PUT /projectgroups/{ref}` (Go field names, as Agola's). */
export interface CreateUpdateProjectGroupRequest {
  /** Empty for a root group (which only an update names). */
  Name: string;
  /** On create the type is `projectgroup`; the id is a ref (id or path). */
  Parent: Parent;
  Visibility: Visibility;
}
