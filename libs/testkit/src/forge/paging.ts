import type { FastifyReply, FastifyRequest } from 'fastify';

/** How a provider paginates lists. */
export interface PagingStyle {
  pageParam: string;
  perPageParam: string;
  defaultPerPage: number;
  maxPerPage: number;
  /** GitLab's X-Page/X-Next-Page/X-Total-Pages headers. */
  gitlabHeaders?: boolean;
  /** Gitea's X-Total-Count header. */
  totalCountHeader?: boolean;
}

/**
 * Returns one page of `items` and sets the RFC 8288 `Link` header (`next`, `last`, `first`,
 * `prev`) as all three providers do.
 */
export function paginate<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  items: readonly T[],
  style: PagingStyle,
  baseURL: string,
): T[] {
  const query = req.query as Record<string, string | undefined>;
  const page = Math.max(1, Number.parseInt(query[style.pageParam] ?? '1', 10) || 1);
  const rawPer = Number.parseInt(query[style.perPageParam] ?? '', 10);
  const per = Math.min(style.maxPerPage, rawPer > 0 ? rawPer : style.defaultPerPage);
  const last = Math.max(1, Math.ceil(items.length / per));
  const link = (p: number): string => {
    const u = new URL(req.url, baseURL);
    u.searchParams.set(style.pageParam, String(p));
    u.searchParams.set(style.perPageParam, String(per));
    return u.toString();
  };
  const links: string[] = [];
  if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
  if (page > 1) links.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
  if (links.length > 0) reply.header('link', links.join(', '));
  if (style.totalCountHeader) reply.header('x-total-count', String(items.length));
  if (style.gitlabHeaders) {
    reply.header('x-page', String(page));
    reply.header('x-per-page', String(per));
    reply.header('x-total', String(items.length));
    reply.header('x-total-pages', String(last));
    reply.header('x-next-page', page < last ? String(page + 1) : '');
    reply.header('x-prev-page', page > 1 ? String(page - 1) : '');
  }
  return items.slice((page - 1) * per, page * per);
}
