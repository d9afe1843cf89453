/**
 * A user's account on a remote source (a git forge), embedded in the user. JSON field names
 * are Agola's.
 */
export interface LinkedAccount {
  id: string;
  remote_user_id?: string;
  remote_username?: string;
  remote_user_avatar_url?: string;
  remote_source_id?: string;
  user_access_token?: string;
  oauth2_access_token?: string;
  oauth2_refresh_token?: string;
  /** RFC3339 time, when the OAuth2 access token expires. */
  oauth_2_access_token_expires_at?: string;
}

/** A user, as stored and as the configstore returns it. */
export interface User {
  id: string;
  name: string;
  /** Internal secret (sha1 hex of a random uuid). */
  secret?: string;
  /** Linked accounts by id. */
  linked_accounts?: Record<string, LinkedAccount>;
  /** Unused (kept for Agola compatibility). */
  password?: string;
  /** Tokens: token name to token value. */
  tokens?: Record<string, string>;
  admin?: boolean;
  /** Unused version field of Agola's entities. */
  version?: string;
}

/** A linked account to create (with a user, or for an existing user). */
export interface CreateUserLARequest {
  /** Name of an existing remote source. */
  remote_source_name: string;
  remote_user_id: string;
  remote_user_name?: string;
  remote_user_avatar_url?: string;
  user_access_token?: string;
  oauth2_access_token?: string;
  oauth2_refresh_token?: string;
  /** RFC3339 time. */
  oauth_2_access_token_expires_at?: string;
}

/** Body of `POST /users`. */
export interface CreateUserRequest {
  user_name: string;
  /** Optionally link an account on a remote source at once. */
  create_user_la_request?: CreateUserLARequest;
}

/** Body of `PUT /users/{userref}` (a rename). */
export interface UpdateUserRequest {
  user_name: string;
}

/**
 * Body of `PUT /users/{userref}/linkedaccounts/{laid}`: the fields to replace (those of
 * {@link CreateUserLARequest}, all optional; the remote source cannot change).
 */
export type UpdateUserLARequest = Partial<Omit<CreateUserLARequest, 'remote_source_name'>>;

/** Body of `POST /users/{userref}/tokens`. */
export interface CreateUserTokenRequest {
  token_name: string;
}

/** Answer of `POST /users/{userref}/tokens`: the new token's value. */
export interface CreateUserTokenResponse {
  token: string;
}

/**
 * A lookup of `GET /users` by `query_type`: each answers a one-element list, or 404.
 */
export type UserQuery =
  | { query_type: 'bytoken'; token: string }
  | { query_type: 'bylinkedaccount'; linkedaccountid: string }
  | { query_type: 'byremoteuser'; remoteuserid: string; remotesourceid: string };
