import type { FastifyInstance } from 'fastify';
import { badRequest, unauthorized } from '@agola-ts/errors';
import { createAgolaGitSource } from '@agola-ts/gitsources';
import type { RefType } from '@agola-ts/runconfig';
import { requireUser } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { passThrough } from '../downstream.js';
import { cloneURLWithToken } from '../repos-proxy.js';
import { createRuns, type CreateRunsDeps } from './create-runs.js';

/** Most `pull_request_ref_regexes` a direct run request may give. */
export const MAX_PR_REF_REGEXES = 10;
/** Longest pull request ref regex, in characters. */
export const MAX_PR_REF_REGEX_LENGTH = 200;
/** Longest branch, tag or ref of a direct run. */
export const MAX_REF_LENGTH = 256;
/** Most variables a direct run request may give. */
export const MAX_DIRECT_RUN_VARIABLES = 200;

const invalid = (message: string) =>
  badRequest(message, { code: GatewayErrorCodes.InvalidRequest, callerOf: invalid });

/**
 * Whether a user-supplied regular expression may backtrack badly: a quantified group that
 * itself holds a quantifier (`(a+)+`, `(x*){2,}`) or an alternation (`(a|a)*`). Such patterns
 * are refused (the ref they run on is short, but the server's time is shared).
 */
export function isRiskyRegExp(source: string): boolean {
  const stack: { quantified: boolean }[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '(') stack.push({ quantified: false });
    else if (c === ')') {
      const group = stack.pop();
      const next = source[i + 1];
      if (group?.quantified && (next === '*' || next === '+' || next === '{' || next === '?')) {
        return true;
      }
      const parent = stack.at(-1);
      if (group?.quantified && parent) parent.quantified = true;
    } else if (c === '*' || c === '+' || c === '{' || c === '|') {
      const group = stack.at(-1);
      if (group) group.quantified = true;
    }
  }
  return false;
}

function str(body: Record<string, unknown>, key: string, max = MAX_REF_LENGTH): string {
  const v = Object.hasOwn(body, key) ? body[key] : undefined;
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  if (v.length > max) throw invalid(`${key} is longer than ${max} characters`);
  return v;
}

/**
 * Registers `POST /user/createrun` (Agola's user direct runs, sent by `agola directrun` after it
 * pushed the local tree to the git server): the repo path must be `<caller's user id>/<uuid>`,
 * exactly one of branch, tag or ref; the config is read from the git server and the runs are
 * created in the user's group with the request's variables.
 */
export function registerDirectRunRoutes(
  api: FastifyInstance,
  ctx: GatewayContext,
  options: { runs?: Partial<Pick<CreateRunsDeps, 'fetchBackoff' | 'jsonnet'>> } = {},
): void {
  api.post('/user/createrun', async (req, reply) => {
    const user = requireUser(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body))
      throw invalid('the body must be an object');
    const repoUUID = str(body, 'repo_uuid');
    const repoPath = str(body, 'repo_path');
    const commitSHA = str(body, 'commit_sha');
    const message = str(body, 'message', 64 * 1024);
    let branch = str(body, 'branch');
    let tag = str(body, 'tag');
    let ref = str(body, 'ref');
    if (repoUUID === '') throw invalid('empty repo uuid');
    const parts = repoPath.split('/');
    if (parts.length !== 2 || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw invalid(`wrong repo path: ${JSON.stringify(repoPath)}`);
    }
    if (parts[0] !== user.id) {
      // 401 as Agola answers it
      throw unauthorized(`repo ${JSON.stringify(repoPath)} not owned`);
    }
    const set = [branch, tag, ref].filter((s) => s !== '').length;
    if (set === 0) throw invalid('one of branch, tag or ref is required');
    if (set > 1) throw invalid('only one of branch, tag or ref can be provided');

    const rawRegexes = Object.hasOwn(body, 'pull_request_ref_regexes')
      ? body['pull_request_ref_regexes']
      : undefined;
    const regexes: RegExp[] = [];
    if (rawRegexes !== undefined && rawRegexes !== null) {
      if (!Array.isArray(rawRegexes) || rawRegexes.length > MAX_PR_REF_REGEXES) {
        throw invalid(`pull_request_ref_regexes must be a list of at most ${MAX_PR_REF_REGEXES}`);
      }
      for (const r of rawRegexes) {
        if (typeof r !== 'string' || r.length > MAX_PR_REF_REGEX_LENGTH || isRiskyRegExp(r)) {
          throw invalid(
            `unsupported pull request ref regex ${JSON.stringify(String(r).slice(0, 50))}`,
          );
        }
        try {
          regexes.push(new RegExp(r));
        } catch {
          throw invalid(`wrong regular expression ${JSON.stringify(r.slice(0, 50))}`);
        }
      }
    }
    const rawVars = Object.hasOwn(body, 'variables') ? body['variables'] : undefined;
    const variables = new Map<string, string>();
    if (rawVars !== undefined && rawVars !== null) {
      if (typeof rawVars !== 'object' || Array.isArray(rawVars))
        throw invalid('variables must be an object');
      const entries = Object.entries(rawVars as Record<string, unknown>);
      if (entries.length > MAX_DIRECT_RUN_VARIABLES) throw invalid('too many variables');
      for (const [k, v] of entries) {
        if (typeof v !== 'string')
          throw invalid(`variable ${JSON.stringify(k.slice(0, 50))} must be a string`);
        variables.set(k, v);
      }
    }

    const exposed = ctx.config.apiExposedURL;
    const reposURL = `${exposed.endsWith('/') ? exposed.slice(0, -1) : exposed}/repos`;
    // read the config straight from the git server when the gateway knows it (one hop less
    // than through the gateway's own /repos proxy, which is what Agola uses)
    const source = createAgolaGitSource({
      type: 'agolagit',
      url: ctx.config.gitserverURL ?? reposURL,
      ...(regexes.length > 0 ? { pullRequestRefRegexes: regexes } : {}),
    });
    if (ref === '') ref = branch ? source.branchRef(branch) : source.tagRef(tag);
    let parsed;
    try {
      parsed = source.refType(ref);
    } catch (err) {
      throw badRequest(`unsupported ref ${JSON.stringify(ref)}`, {
        code: GatewayErrorCodes.InvalidRequest,
        cause: err,
      });
    }
    const refType: RefType = parsed.type;
    branch = refType === 'branch' ? parsed.name : '';
    tag = refType === 'tag' ? parsed.name : '';
    const pullRequestID = refType === 'pull_request' ? parsed.name : '';
    await createRuns(
      {
        configstore: ctx.configstore,
        runservice: ctx.runservice,
        log: ctx.logger,
        ...options.runs,
      },
      {
        runType: 'user',
        refType,
        trigger: 'manual',
        userId: user.id,
        repoPath,
        gitSource: source,
        commitSHA,
        message,
        ref,
        ...(branch ? { branch } : {}),
        ...(tag ? { tag } : {}),
        ...(pullRequestID ? { pullRequestID } : {}),
        // the clone step reads through the gateway's /repos, which needs credentials: a
        // short-lived token that can only read this repository (masked in the step logs)
        cloneURL: cloneURLWithToken(ctx, `${reposURL}/${repoPath}.git`, repoPath),
        maskedStaticEnvironment: ['AGOLA_REPOSITORY_URL'],
        userRunRepoUUID: repoUUID,
        variables: Object.fromEntries(variables),
      },
    ).catch((err: unknown) => {
      throw passThrough(err);
    });
    return reply.status(201).send();
  });
}
