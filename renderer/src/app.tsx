/**
 * The shell: the login page without a session; with one, the navigation, the node banner and the
 * page the hash names. It also keeps the live parts running while signed in: the event stream and
 * the health check behind the banner.
 */
import {
  Activity,
  Boxes,
  Braces,
  FileBraces,
  FileKey,
  Globe,
  IdCard,
  LogOut,
  Network,
  Plug,
  Radio,
  Route as RouteIcon,
  Router,
  ScanFace,
  ShieldCheck,
  UserCog,
  Waypoints,
  Workflow,
  type LucideIcon,
} from 'lucide-react';
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { ErrorBoundary, type FallbackProps } from 'react-error-boundary';
import type { CollectionName, MeshEvent } from './api/types.js';
import { NodeBanner } from './components/banner.js';
import { ErrorNotice } from './components/states.js';
import { collectionOrder, describeCollection } from './model/collections.js';
import { ClusterPage } from './pages/cluster-page.js';
import { CollectionPage } from './pages/collection-page.js';
import { EntityPage } from './pages/entity-page.js';
import { EventsPage } from './pages/events-page.js';
import { LoginPage } from './pages/login-page.js';
import { PolicyAdvisorPage } from './pages/policy-advisor-page.js';
import { RuntimePage } from './pages/runtime-page.js';
import { pageTitle } from './router/page-title.js';
import { formatRoute, parseRoute, type Route } from './router/routes.js';
import { useApp, useHash, useSelect } from './app-context.js';
import { healthQuery, invalidateAfter } from './queries.js';

/** Events are handed to the store at most this often, in ms. */
const EVENT_BATCH_MS = 100;

function useLiveConnections(signedIn: boolean) {
  const { api, queryClient, events } = useApp();
  // The banner's health check: its answers reach the cluster store through the query cache.
  useQuery({ ...healthQuery(api), enabled: signedIn });
  useEffect(() => {
    if (!signedIn) return;
    let stopped = false;

    // Events arrive in bursts (a reconnect's backlog): hand them to the store in batches.
    let pending: MeshEvent[] = [];
    const flush = () => {
      const batch = pending;
      pending = [];
      if (stopped) return;
      events.getState().received(batch);
      void invalidateAfter(queryClient, batch);
    };
    const subscription = api.subscribe({
      onEvent: (event) => {
        if (pending.push(event) === 1) window.setTimeout(flush, EVENT_BATCH_MS);
      },
      onState: (state, detail) => events.getState().connectionChanged(state, detail),
    });
    return () => {
      stopped = true;
      subscription.close();
    };
  }, [api, queryClient, events, signedIn]);
}

interface NavItem {
  readonly route: Route;
  readonly label: string;
  readonly icon: LucideIcon;
}

const mainNav: readonly NavItem[] = [
  { route: { page: 'cluster' }, label: 'Cluster', icon: Network },
  { route: { page: 'runtime' }, label: 'Runtime', icon: Workflow },
  { route: { page: 'policy-advisor' }, label: 'Policy advisor', icon: ShieldCheck },
  { route: { page: 'events' }, label: 'Events', icon: Activity },
];

const collectionIcons: Readonly<Record<CollectionName, LucideIcon>> = {
  identities: IdCard,
  services: Globe,
  routers: Router,
  terminators: Plug,
  'service-policies': FileKey,
  'edge-router-policies': RouteIcon,
  'service-edge-router-policies': Waypoints,
  configs: Braces,
  'config-types': FileBraces,
  'posture-checks': ScanFace,
  admins: UserCog,
};

function isCurrent(item: Route, current: Route): boolean {
  if (item.page === 'collection') {
    return 'collection' in current && current.collection === item.collection;
  }
  return item.page === current.page;
}

function Navigation({ current }: { current: Route }) {
  const link = (route: Route, label: string, Icon: LucideIcon) => (
    <li key={formatRoute(route)}>
      <a href={formatRoute(route)} aria-current={isCurrent(route, current) ? 'page' : undefined}>
        <Icon aria-hidden size={16} />
        <span>{label}</span>
      </a>
    </li>
  );
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <Boxes aria-hidden size={20} /> meshdesk
      </div>
      <ul>{mainNav.map((item) => link(item.route, item.label, item.icon))}</ul>
      <div className="nav-heading">Model</div>
      <ul>
        {collectionOrder.map((collection) =>
          link(
            { page: 'collection', collection },
            describeCollection(collection).plural,
            collectionIcons[collection],
          ),
        )}
      </ul>
    </nav>
  );
}

function PageCrashed({ error, resetErrorBoundary }: FallbackProps) {
  return (
    <div className="page">
      <h1>This page failed</h1>
      <ErrorNotice error={error} onRetry={resetErrorBoundary} />
      <p className="muted">
        The rest of the app still works: pick another page on the left. If this keeps happening, the browser
        console has the details.
      </p>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'cluster':
      return <ClusterPage />;
    case 'collection':
      return <CollectionPage key={route.collection} collection={route.collection} />;
    case 'create':
      return <EntityPage key={`${route.collection}/new`} collection={route.collection} />;
    case 'entity':
      return (
        <EntityPage key={`${route.collection}/${route.id}`} collection={route.collection} id={route.id} />
      );
    case 'policy-advisor':
      return <PolicyAdvisorPage initialIdentity={route.identity} initialService={route.service} />;
    case 'events':
      return <EventsPage />;
    case 'runtime':
      return <RuntimePage />;
    case 'not-found':
      return (
        <div className="page">
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>.{' '}
            <a href={formatRoute({ page: 'cluster' })}>Go to the cluster.</a>
          </p>
        </div>
      );
  }
}

export function App() {
  const { auth, events } = useApp();
  const session = useSelect(auth, (s) => s.session);
  const connection = useSelect(events, (s) => s.connection);
  const route = parseRoute(useHash());
  useLiveConnections(session !== null);
  const title = pageTitle(route);
  useEffect(() => {
    document.title = session ? title : 'Sign in — meshdesk';
  }, [title, session]);

  if (!session) return <LoginPage />;
  return (
    <div className="shell">
      <button type="button" className="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <Navigation current={route} />
      <div className="content">
        <header className="topbar">
          <span className={`live live-${connection}`} title={`Event stream: ${connection}`}>
            <Radio aria-hidden size={14} />{' '}
            {connection === 'connected' ? 'Live' : connection === 'connecting' ? 'Connecting…' : 'Offline'}
          </span>
          <span className="muted">Signed in as {session.username}</span>
          {session.role === 'readonly' ? (
            <span className="pill pill-learner" title="You can look at everything and change nothing">
              Read-only
            </span>
          ) : null}
          <button type="button" className="button small" onClick={() => auth.getState().signedOut()}>
            <LogOut aria-hidden size={14} /> Sign out
          </button>
        </header>
        <NodeBanner />
        <main id="main" tabIndex={-1}>
          {/* A page that throws shows what broke, with the rest of the app still working; moving
              to another page (or Try again) renders afresh. */}
          <ErrorBoundary FallbackComponent={PageCrashed} resetKeys={[formatRoute(route)]}>
            <Page route={route} />
          </ErrorBoundary>
        </main>
      </div>
    </div>
  );
}
