import { setOwn } from '../path.js';
import type { ConfigValue, RegistriesAuth } from '../types.js';
import type { RunConfigRegistryAuth } from './types.js';

/** The value of a config value: the string itself, or the variable's value ('' when unset). */
export function resolveValue(
  value: ConfigValue | undefined,
  variables: Readonly<Record<string, string>>,
): string {
  if (!value) return '';
  if (value.type === 'string') return value.value;
  return Object.hasOwn(variables, value.variable) ? (variables[value.variable] as string) : '';
}

/** Resolves every value of an environment map. */
export function resolveEnvironment(
  env: Readonly<Record<string, ConfigValue>>,
  variables: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    setOwn(out, name, resolveValue(value, variables));
  return out;
}

/** Merges registry credentials level by level (a later level replaces a registry's entry) and resolves them. */
export function mergeRegistriesAuth(
  levels: readonly RegistriesAuth[],
  variables: Readonly<Record<string, string>>,
): Record<string, RunConfigRegistryAuth> {
  const merged: RegistriesAuth = {};
  for (const level of levels)
    for (const [host, auth] of Object.entries(level)) setOwn(merged, host, auth);
  const out: Record<string, RunConfigRegistryAuth> = {};
  for (const [host, auth] of Object.entries(merged)) {
    setOwn(out, host, {
      type: auth.type,
      username: resolveValue(auth.username, variables),
      password: resolveValue(auth.password, variables),
      auth: resolveValue(auth.auth, variables),
    });
  }
  return out;
}
