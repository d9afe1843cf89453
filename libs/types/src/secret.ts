/** What a secret or variable belongs to. */
export interface SecretParent {
  type: 'project' | 'projectgroup';
  id: string;
}

/** A secret (only the `internal` type is supported). */
export interface Secret {
  id: string;
  name: string;
  parent: SecretParent;
  type: 'internal' | 'external';
  /** Never empty. */
  data?: Record<string, string>;
  secret_provider_id?: string;
  path?: string;
  /** Unused version field of Agola's entities. */
  version?: string;
}

/** A secret in an answer: with the path of its parent. */
export type SecretResponse = Secret & { ParentPath: string };

/** Body of `POST …/secrets` and `PUT …/secrets/{name}` (Go field names, as Agola's). */
export interface CreateUpdateSecretRequest {
  Name: string;
  Type: 'internal';
  Data: Record<string, string>;
  SecretProviderID?: string;
  Path?: string;
}

/** One value of a variable: a secret's key, under a condition. */
export interface VariableValue {
  secret_name: string;
  secret_var: string;
  /** The run config `when` structure (branch, tag, ref conditions), kept as given. */
  when?: unknown;
}

/** A variable. */
export interface Variable {
  id: string;
  name: string;
  parent: SecretParent;
  /** At least one. */
  values: VariableValue[];
  /** Unused version field of Agola's entities. */
  version?: string;
}

/** A variable in an answer: with the path of its parent. */
export type VariableResponse = Variable & { ParentPath: string };

/** Body of `POST …/variables` and `PUT …/variables/{name}`. */
export interface CreateUpdateVariableRequest {
  Name: string;
  Values: VariableValue[];
}
