import type { RefType, WhenTarget } from './when.js';

/**
 * What a jsonnet config receives as its `ctx` top-level argument. Every field is present;
 * fields that do not apply to the ref are empty strings.
 */
export interface ConfigContext {
  /** `branch`, `tag` or `pull_request`. */
  ref_type: RefType;
  /** The full git ref. */
  ref: string;
  /** Branch name (branch refs). */
  branch: string;
  /** Tag name (tag refs). */
  tag: string;
  /** Pull request id (pull request refs). */
  pull_request_id: string;
  /** The commit the run is for. */
  commit_sha: string;
}

const PULL_REQUEST_REFS = [
  /^refs\/pull\/(\d+)\/(?:head|merge)$/,
  /^refs\/merge-requests\/(\d+)\/head$/,
];

/**
 * Builds the context of a git ref: `refs/heads/<b>` is a branch, `refs/tags/<t>` a tag,
 * `refs/pull/<n>/head` (GitHub, Gitea) and `refs/merge-requests/<n>/head` (GitLab) pull requests.
 * Returns `undefined` for any other ref.
 *
 * @example
 * ```ts
 * contextOfRef('refs/tags/v1.0', 'abc'); // { ref_type: 'tag', tag: 'v1.0', ... }
 * ```
 */
export function contextOfRef(ref: string, commitSha = ''): ConfigContext | undefined {
  const base = { ref, branch: '', tag: '', pull_request_id: '', commit_sha: commitSha };
  if (ref.startsWith('refs/heads/'))
    return { ...base, ref_type: 'branch', branch: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/'))
    return { ...base, ref_type: 'tag', tag: ref.slice('refs/tags/'.length) };
  for (const re of PULL_REQUEST_REFS) {
    const m = re.exec(ref);
    if (m?.[1]) return { ...base, ref_type: 'pull_request', pull_request_id: m[1] };
  }
  return undefined;
}

/** The `when` target of a context. */
export function whenTargetOf(ctx: ConfigContext): WhenTarget {
  return { refType: ctx.ref_type, ref: ctx.ref, branch: ctx.branch, tag: ctx.tag };
}
