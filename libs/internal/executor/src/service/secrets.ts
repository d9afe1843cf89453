import { SECRET_ENV_ANNOTATION, type RunConfig, type Run } from '@agola-ts/types';

/** The run annotation naming the secret environment variables (declared in @agola-ts/types). */
export { SECRET_ENV_ANNOTATION };

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
