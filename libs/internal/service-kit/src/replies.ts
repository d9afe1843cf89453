import type { FastifyReply } from 'fastify';

/**
 * Answers 201 Created with a JSON body: the response of every create route.
 *
 * @example
 * ```ts
 * app.post('/users', async (req, reply) => created(reply, await createUser(req.body)));
 * ```
 */
export function created<T>(reply: FastifyReply, body: T): FastifyReply {
  return reply.code(201).send(body);
}

/**
 * Answers 204 No Content: the response of delete routes and of actions that return nothing.
 *
 * @example
 * ```ts
 * app.delete('/users/:ref', async (req, reply) => { await deleteUser(ref); return noContent(reply); });
 * ```
 */
export function noContent(reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}
