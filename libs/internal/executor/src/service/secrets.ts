import type { RunConfig, Run } from '@agola-ts/types';

/**
 * The run annotation that names the environment variables whose values came from secrets:
 * a JSON array of variable names (`["DEPLOY_TOKEN","NPM_TOKEN"]`). The gateway sets it when it
 * resolves variables from secrets; the executor masks the values of these variables (task,
 * run and step environment) in every log. Agola v0.7 marks nothing.
 */
export const SECRET_ENV_ANNOTATION = 'agola-ts.io/secret-environment';

/** The names listed in {@link SECRET_ENV_ANNOTATION} (of the run config, else of the run). */
export function secretEnvNames(
  runConfig: Pick<RunConfig, 'annotations'> | undefined,
  run?: Pick<Run, 'annotations'>,
): string[] {
  for (const annotations of [runConfig?.annotations, run?.annotations]) {
    if (!annotations || !Object.hasOwn(annotations, SECRET_ENV_ANNOTATION)) continue;
    const raw = annotations[SECRET_ENV_ANNOTATION] ?? '';
    try {
      const v: unknown = JSON.parse(raw);
      if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    } catch {
      // a malformed list marks nothing; the caller logs it
    }
    return [];
  }
  return [];
}

/** The values of the named variables in any of the environments (deduplicated). */
export function secretValues(
  names: readonly string[],
  envs: readonly (Record<string, string> | undefined)[],
): string[] {
  const values = new Set<string>();
  for (const env of envs) {
    if (!env) continue;
    for (const name of names) {
      if (Object.hasOwn(env, name)) {
        const v = env[name];
        if (v) values.add(v);
      }
    }
  }
  return [...values];
}
