import { newError } from '@agola-ts/errors';
import { RunconfigErrorCodes } from '../codes.js';

/**
 * Levels of a task graph given as id → parent ids: 0 for tasks without parents, otherwise one
 * more than the highest parent level.
 *
 * @throws AgolaError `ERR_RUNCONFIG_INVALID` when some tasks never get a level (a cycle or a
 * missing parent).
 */
export function computeLevels(
  parents: ReadonlyMap<string, readonly string[]>,
): Map<string, number> {
  const levels = new Map<string, number>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const [id, ps] of parents) {
      if (levels.has(id)) continue;
      if (ps.every((p) => levels.has(p))) {
        levels.set(
          id,
          ps.reduce((max, p) => Math.max(max, (levels.get(p) as number) + 1), 0),
        );
        changed = true;
      }
    }
  }
  if (levels.size !== parents.size) {
    const left = [...parents.keys()].filter((id) => !levels.has(id));
    throw newError(`tasks ${left.join(', ')} have circular or missing dependencies`, {
      code: RunconfigErrorCodes.Invalid,
    });
  }
  return levels;
}
