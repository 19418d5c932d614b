/**
 * Hash routes (`#/cluster`, `#/c/identities/new`, …): they work from any base, a file or a custom
 * protocol, and need no server support. Parsing and formatting are pure; `use-route.ts` binds them
 * to the window.
 */
import { isCollectionName, type CollectionName } from '../api/types.js';

export type Route =
  | { readonly page: 'cluster' }
  | { readonly page: 'collection'; readonly collection: CollectionName }
  | { readonly page: 'create'; readonly collection: CollectionName }
  | { readonly page: 'entity'; readonly collection: CollectionName; readonly id: string }
  | { readonly page: 'policy-advisor'; readonly identity?: string; readonly service?: string }
  | { readonly page: 'events' }
  | { readonly page: 'runtime' }
  | { readonly page: 'not-found'; readonly path: string };

export const homeRoute: Route = { page: 'cluster' };

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [pathPart = '', queryPart = ''] = raw.split('?', 2);
  const segments = pathPart.split('/').filter((s) => s !== '');
  const query = new URLSearchParams(queryPart);
  const [first, second, third, ...rest] = segments;
  if (first === undefined) return homeRoute;
  if (first === 'cluster' && second === undefined) return { page: 'cluster' };
  if (first === 'events' && second === undefined) return { page: 'events' };
  if (first === 'runtime' && second === undefined) return { page: 'runtime' };
  if (first === 'policy-advisor' && second === undefined) {
    const identity = query.get('identity');
    const service = query.get('service');
    return {
      page: 'policy-advisor',
      ...(identity ? { identity } : {}),
      ...(service ? { service } : {}),
    };
  }
  if (first === 'c' && second !== undefined && isCollectionName(second) && rest.length === 0) {
    if (third === undefined) return { page: 'collection', collection: second };
    if (third === 'new') return { page: 'create', collection: second };
    const id = decode(third);
    if (id !== null) return { page: 'entity', collection: second, id };
  }
  return { page: 'not-found', path: `/${segments.join('/')}` };
}

export function formatRoute(route: Route): string {
  switch (route.page) {
    case 'cluster':
      return '#/cluster';
    case 'events':
      return '#/events';
    case 'runtime':
      return '#/runtime';
    case 'policy-advisor': {
      const query = new URLSearchParams();
      if (route.identity) query.set('identity', route.identity);
      if (route.service) query.set('service', route.service);
      return query.size > 0 ? `#/policy-advisor?${query.toString()}` : '#/policy-advisor';
    }
    case 'collection':
      return `#/c/${route.collection}`;
    case 'create':
      return `#/c/${route.collection}/new`;
    case 'entity':
      return `#/c/${route.collection}/${encodeURIComponent(route.id)}`;
    case 'not-found':
      return `#${route.path}`;
  }
}
