import { createHash, randomUUID } from 'node:crypto';
import type { Action } from '@agola-ts/datamanager';

/** A put action of an entity, stored as Agola's JSON. */
export function put(dataType: string, id: string, entity: unknown): Action {
  return { actionType: 'put', dataType, id, data: JSON.stringify(entity) };
}

/** A delete action. */
export function del(dataType: string, id: string): Action {
  return { actionType: 'delete', dataType, id };
}

/** A random secret as Agola's: the sha1 hex of a random uuid. */
export function randomSecret(): string {
  return createHash('sha1').update(randomUUID()).digest('hex');
}

/** A new entity id. */
export function newId(): string {
  return randomUUID();
}
