/** The window's title for a page, so that tabs, history and the task bar say where one is. */
import { describeCollection } from '../model/collections.js';
import type { Route } from './routes.js';

const PRODUCT = 'meshdesk';

export function pageTitle(route: Route): string {
  const page = ((): string => {
    switch (route.page) {
      case 'cluster':
        return 'Cluster';
      case 'events':
        return 'Events';
      case 'runtime':
        return 'Runtime';
      case 'policy-advisor':
        return 'Policy advisor';
      case 'collection':
        return describeCollection(route.collection).plural;
      case 'create':
        return `New ${describeCollection(route.collection).singular.toLowerCase()}`;
      case 'entity':
        return describeCollection(route.collection).singular;
      case 'not-found':
        return 'Not found';
    }
  })();
  return `${page} — ${PRODUCT}`;
}
