/**
 * What the run header shows, from a run's annotations (Agola's keys: `branch`, `tag`,
 * `pull_request_id`, `ref`, `commit_sha`, `message` and their `*_link`s) and times.
 */

/** The git reference a run was made for. */
export interface RunRef {
  kind: 'branch' | 'tag' | 'pull request' | 'ref';
  name: string;
  /** A link on the forge, when the forge gave one. */
  link: string | undefined;
}

function get(annotations: Record<string, string> | null | undefined, key: string): string {
  return annotations && Object.hasOwn(annotations, key) ? String(annotations[key] ?? '') : '';
}

/** Only http(s) links are shown (an annotation is data from a forge or a pusher). */
function safeLink(url: string): string | undefined {
  return url.startsWith('https://') || url.startsWith('http://') ? url : undefined;
}

/** The branch, tag, pull request or bare ref of a run; `undefined` when none is annotated. */
export function runRef(annotations: Record<string, string> | null | undefined): RunRef | undefined {
  const branch = get(annotations, 'branch');
  if (branch)
    return { kind: 'branch', name: branch, link: safeLink(get(annotations, 'branch_link')) };
  const tag = get(annotations, 'tag');
  if (tag) return { kind: 'tag', name: tag, link: safeLink(get(annotations, 'tag_link')) };
  const pr = get(annotations, 'pull_request_id');
  if (pr) {
    return {
      kind: 'pull request',
      name: `#${pr}`,
      link: safeLink(get(annotations, 'pull_request_link')),
    };
  }
  const ref = get(annotations, 'ref');
  return ref ? { kind: 'ref', name: ref, link: undefined } : undefined;
}

/** The commit: short sha, full sha, link, and the message's first line and the rest. */
export function runCommit(annotations: Record<string, string> | null | undefined): {
  sha: string;
  shortSha: string;
  link: string | undefined;
  title: string;
  body: string;
} {
  const sha = get(annotations, 'commit_sha');
  const message = get(annotations, 'message');
  const nl = message.indexOf('\n');
  return {
    sha,
    shortSha: sha.slice(0, 8),
    link: safeLink(get(annotations, 'commit_link')),
    title: nl === -1 ? message : message.slice(0, nl),
    body: nl === -1 ? '' : message.slice(nl + 1).trim(),
  };
}

/** A time for people (local time), or '' when absent. */
export function formatTime(t: string | null | undefined): string {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

/** The label of a run's state: its phase, and the result once it has one. */
export function runStateLabel(run: { phase: string; result: string; stopping?: boolean }): string {
  if (run.phase === 'finished') return run.result;
  if (run.phase === 'running' && run.stopping) return 'stopping';
  if (run.phase === 'running' && run.result !== 'unknown') return `running (${run.result})`;
  return run.phase;
}
