import { createAgolaGitSource, type AgolaGitConfig, type AgolaGitSource } from './agolagit.js';
import { GitSourceErrorCodes } from './codes.js';
import { GitSourceError } from './errors.js';
import { createGiteaSource, type GiteaConfig, type GiteaSource } from './gitea.js';
import { createGitHubSource, type GitHubConfig, type GitHubSource } from './github.js';
import { createGitLabSource, type GitLabConfig, type GitLabSource } from './gitlab.js';
import type { OAuth2Source, PasswordSource } from './types.js';

/** The configuration of any git source, discriminated by `type`. */
export type GitSourceConfig = GiteaConfig | GitHubConfig | GitLabConfig | AgolaGitConfig;

/** The source a config creates. */
export type GitSourceFor<C extends GitSourceConfig> = C extends GiteaConfig
  ? GiteaSource
  : C extends GitHubConfig
    ? GitHubSource
    : C extends GitLabConfig
      ? GitLabSource
      : AgolaGitSource;

/**
 * Creates the git source a config names (as Agola's `GetGitSource` does for a remote source
 * and a linked account's token).
 *
 * @example
 * ```ts
 * const source = createGitSource({ type: 'gitlab', apiURL: rs.apiURL, token: la.oauth2AccessToken });
 * const repo = await source.getRepoInfo('group/repo');
 * ```
 * @throws GitSourceError `ERR_GITSOURCE_INVALID_CONFIG` for a bad URL or an unknown type
 */
export function createGitSource<C extends GitSourceConfig>(config: C): GitSourceFor<C>;
export function createGitSource(
  config: GitSourceConfig,
): GiteaSource | GitHubSource | GitLabSource | AgolaGitSource {
  switch (config.type) {
    case 'gitea':
      return createGiteaSource(config);
    case 'github':
      return createGitHubSource(config);
    case 'gitlab':
      return createGitLabSource(config);
    case 'agolagit':
      return createAgolaGitSource(config);
    default: {
      const never: never = config;
      throw new GitSourceError(
        `unknown git source type ${JSON.stringify((never as { type?: unknown }).type)}`,
        {
          code: GitSourceErrorCodes.InvalidConfig,
        },
      );
    }
  }
}

/** Whether a source supports password login (Gitea). */
export function isPasswordSource(source: object): source is PasswordSource {
  return typeof (source as Partial<PasswordSource>).loginPassword === 'function';
}

/** Whether a source supports OAuth2 login (Gitea, GitHub, GitLab). */
export function isOAuth2Source(source: object): source is OAuth2Source {
  return typeof (source as Partial<OAuth2Source>).requestOAuth2Token === 'function';
}
