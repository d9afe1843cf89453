/** The kind of git forge a remote source is. */
export type RemoteSourceType = 'gitea' | 'github' | 'gitlab';

/** How users authenticate with a remote source. */
export type RemoteSourceAuthType = 'password' | 'oauth2';

/** Every {@link RemoteSourceType}. */
export const REMOTE_SOURCE_TYPES: readonly RemoteSourceType[] = ['gitea', 'github', 'gitlab'];

/** Every {@link RemoteSourceAuthType}. */
export const REMOTE_SOURCE_AUTH_TYPES: readonly RemoteSourceAuthType[] = ['password', 'oauth2'];

/**
 * The auth types each remote source type supports: gitea both, github and gitlab oauth2 only.
 */
export const SUPPORTED_AUTH_TYPES: Readonly<
  Record<RemoteSourceType, readonly RemoteSourceAuthType[]>
> = {
  gitea: ['oauth2', 'password'],
  github: ['oauth2'],
  gitlab: ['oauth2'],
};

/**
 * Whether `type` supports `authType`.
 *
 * @example
 * ```ts
 * isAuthTypeSupported('github', 'password'); // false
 * ```
 */
export function isAuthTypeSupported(
  type: RemoteSourceType,
  authType: RemoteSourceAuthType,
): boolean {
  return SUPPORTED_AUTH_TYPES[type].includes(authType);
}

/** A remote source (a git forge), as stored and returned. */
export interface RemoteSource {
  id: string;
  name: string;
  apiurl: string;
  skip_verify?: boolean;
  type: RemoteSourceType;
  auth_type: RemoteSourceAuthType;
  client_id?: string;
  client_secret?: string;
  ssh_host_key?: string;
  skip_ssh_host_key_check?: boolean;
  /** Whether users may register through it. Absent means true. */
  registration_enabled?: boolean;
  /** Whether users may log in through it. Absent means true. */
  login_enabled?: boolean;
  /** Unused version field of Agola's entities. */
  version?: string;
}

/** Body of `POST /remotesources` and `PUT /remotesources/{ref}` (Go field names). */
export interface CreateUpdateRemoteSourceRequest {
  Name: string;
  APIURL: string;
  SkipVerify?: boolean;
  Type: RemoteSourceType;
  AuthType: RemoteSourceAuthType;
  Oauth2ClientID?: string;
  Oauth2ClientSecret?: string;
  SSHHostKey?: string;
  SkipSSHHostKeyCheck?: boolean;
  /** @default true */
  RegistrationEnabled?: boolean;
  /** @default true */
  LoginEnabled?: boolean;
}
