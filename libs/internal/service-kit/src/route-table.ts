/**
 * The paths and methods a server has routes for, so that a request that found no route can
 * be told apart: a known path with another method (405) or an unknown path (404). Fastify
 * keeps no such lookup by concrete path, so each registered route url is turned into a
 * pattern (`:param` matches one segment, `*` the rest).
 */
export class RouteTable {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];

  /** Records a route (called from fastify's `onRoute` hook). */
  add(url: string, method: string | string[]): void {
    const methods = Array.isArray(method) ? method : [method];
    this.routes.push({ pattern: toPattern(url), methods: new Set(methods) });
  }

  /** The methods that have a route for this concrete path (empty for an unknown path). */
  methodsFor(path: string): string[] {
    const found = new Set<string>();
    for (const route of this.routes) {
      if (route.pattern.test(path)) for (const m of route.methods) found.add(m);
    }
    return [...found].sort();
  }
}

function toPattern(url: string): RegExp {
  let source = '';
  for (const segment of url.split('/')) {
    if (source !== '' || segment !== '') source += '\\/';
    if (segment === '*') source += '.*';
    else if (segment.startsWith(':')) source += '[^/]+';
    else source += segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  // fastify ignores a trailing slash only when told to; match it exactly, as it does
  return new RegExp(`^${source}$`);
}
