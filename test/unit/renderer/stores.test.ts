/** The UI's feature stores: their transitions as pure functions, and the stores built on them. */
import { describe, expect, it } from 'vitest';
import { clusterView } from '../../../contract/index.js';
import { normaliseEvent } from '../../../renderer/src/api/events.js';
import { ApiError, networkError } from '../../../renderer/src/api/problem.js';
import type { ClusterView, MeshEvent } from '../../../renderer/src/api/types.js';
import {
  SESSION_KEY,
  canChange,
  createAuthStore,
  restore,
  signOut,
} from '../../../renderer/src/stores/auth.js';
import {
  clusterFailed,
  clusterLoaded,
  faultTolerance,
  faultToleranceNotice,
  healthChecked,
  initialClusterState,
  memberRows,
} from '../../../renderer/src/stores/cluster.js';
import {
  MAX_EVENTS,
  eventsReceived,
  filterEvents,
  initialEventsState,
} from '../../../renderer/src/stores/events.js';
import { memoryStorage } from '../../../renderer/src/stores/storage.js';
import { createTableStore, restorePrefs, tableKey } from '../../../renderer/src/stores/table.js';

function entityEvent(seq: number, index: number, collection = 'identities', op = 'create'): MeshEvent {
  const event = normaliseEvent('event', {
    kind: 'entity',
    op,
    collection,
    id: `e${seq}`,
    index,
    seq,
    revision: 1,
  });
  if (!event) throw new Error('not an event');
  return event;
}

describe('auth store', () => {
  const login = { token: 'jwt', expiresAt: '2030-01-01T00:00:00.000Z', role: 'admin' } as const;

  it('keeps the session in storage and forgets it on sign-out', () => {
    const storage = memoryStorage();
    const store = createAuthStore(storage, () => Date.parse('2029-01-01T00:00:00Z'));
    store.getState().signedIn(login, 'admin');
    expect(JSON.parse(storage.getItem(SESSION_KEY) ?? 'null')).toEqual({ ...login, username: 'admin' });

    const again = createAuthStore(storage, () => Date.parse('2029-01-01T00:00:00Z'));
    expect(again.getState().session?.username).toBe('admin');

    again.getState().signedOut('Your session ended.');
    expect(storage.getItem(SESSION_KEY)).toBeNull();
    expect(again.getState()).toMatchObject({ session: null, notice: 'Your session ended.' });
  });

  it('does not restore an expired or malformed session', () => {
    const storage = memoryStorage();
    storage.setItem(SESSION_KEY, JSON.stringify({ ...login, username: 'admin' }));
    expect(restore(storage, Date.parse('2031-01-01T00:00:00Z'))).toEqual({
      session: null,
      notice: 'Your session expired. Sign in again.',
    });
    storage.setItem(SESSION_KEY, '{"token": 3}');
    expect(restore(storage, 0).session).toBeNull();
    storage.setItem(SESSION_KEY, 'not json');
    expect(restore(storage, 0).session).toBeNull();
    // One stored before roles existed: sign in again to learn what this admin may do.
    storage.setItem(SESSION_KEY, JSON.stringify({ token: 'jwt', expiresAt: login.expiresAt, username: 'a' }));
    expect(restore(storage, 0).session).toBeNull();
  });

  it('lets only a full admin change things', () => {
    const session = { token: 't', expiresAt: '', username: 'a' } as const;
    expect(canChange({ ...session, role: 'admin' })).toBe(true);
    expect(canChange({ ...session, role: 'readonly' })).toBe(false);
    expect(canChange(null)).toBe(false);
  });

  it('keeps the first notice when late requests sign out again', () => {
    const session = { token: 't', expiresAt: '', username: 'a', role: 'admin' } as const;
    const first = signOut({ session, notice: null }, 'expired');
    expect(signOut(first, 'ended again').notice).toBe('ended again');
    expect(signOut(first).notice).toBe('expired');
  });
});

describe('cluster store', () => {
  const view: ClusterView = clusterView.parse({
    clusterId: 'c1',
    nodeId: 'n1',
    leaderId: 'n1',
    role: 'leader',
    term: 3,
    commitIndex: 100,
    appliedIndex: 100,
    members: [
      {
        id: 'n3',
        name: 'zeta',
        address: 'h3:8441',
        apiUrl: null,
        voter: false,
        leader: false,
        connected: true,
        reachable: true,
        matchIndex: 60,
        appliedIndex: 55,
        lastContactMs: 20,
      },
      {
        id: 'n2',
        name: 'beta',
        address: 'h2:8441',
        apiUrl: null,
        voter: true,
        leader: false,
        connected: false,
        reachable: false,
        matchIndex: null,
        appliedIndex: 97,
        lastContactMs: null,
      },
      {
        id: 'n1',
        name: 'alpha',
        address: 'h1:8441',
        apiUrl: 'http://h1:8440',
        voter: true,
        leader: true,
        connected: true,
        reachable: true,
        matchIndex: 100,
        appliedIndex: 100,
        lastContactMs: 0,
      },
    ],
  });

  it('shows the leader first, then members by name, with role and lag', () => {
    expect(memberRows(view).map((m) => [m.name, m.role, m.lag])).toEqual([
      ['alpha', 'leader', 0],
      ['beta', 'follower', 3],
      ['zeta', 'learner', 40],
    ]);
  });

  it('counts the voters it hears from against the quorum, and warns one failure before writes stop', () => {
    const voter = (id: string, reachable: boolean) => ({
      ...(view.members[2] as ClusterView['members'][number]),
      id,
      leader: false,
      reachable,
    });
    const of = (...reachable: boolean[]) =>
      faultTolerance({ ...view, members: reachable.map((r, i) => voter(`n${i}`, r)) });
    // The learner of the fixture does not count: two voters, one unreachable, no quorum.
    expect(faultTolerance(view)).toEqual({ voters: 2, reachable: 1, quorum: 2, spare: -1 });
    expect(faultToleranceNotice(faultTolerance(view))).toMatchObject({
      level: 'error',
      text: expect.stringMatching(/^No quorum: 1 of 2 voters are reachable and a write needs 2/),
    });
    expect(faultToleranceNotice(of(true, true, true))).toBeNull();
    expect(faultToleranceNotice(of(true, true, false))).toEqual({
      level: 'warning',
      text: 'No fault tolerance: 2 of 3 voters are reachable; one more failure stops writes.',
    });
    expect(faultToleranceNotice(of(true, true, true, true, false))).toBeNull();
    expect(faultToleranceNotice(of(true))?.level).toBe('info');
  });

  it('derives the banner from health checks and cluster loads', () => {
    let state = healthChecked(initialClusterState, { health: { role: 'follower', leaderId: 'n1' } });
    expect(state.status).toBe('ok');
    state = healthChecked(state, { health: { role: 'candidate', leaderId: '' } });
    expect(state.status).toBe('no-leader');
    state = healthChecked(state, { error: networkError(new Error('ECONNREFUSED')) });
    expect(state).toMatchObject({
      status: 'unreachable',
      statusDetail: 'The node is unreachable: ECONNREFUSED',
    });
    state = clusterLoaded(state, { ...view, leaderId: '' });
    expect(state.status).toBe('no-leader');
    state = clusterLoaded(state, view);
    expect(state).toEqual({ status: 'ok', statusDetail: 'The node is unreachable: ECONNREFUSED' });
  });

  it('says starting while health does, whatever the leader, until health says up', () => {
    let state = healthChecked(initialClusterState, {
      health: { status: 'starting', role: 'leader', leaderId: 'n1' },
    });
    expect(state.status).toBe('starting');
    // A cluster view that loads meanwhile does not make the node ready.
    state = clusterLoaded(state, view);
    expect(state.status).toBe('starting');
    state = healthChecked(state, { health: { status: 'up', role: 'leader', leaderId: 'n1' } });
    expect(state.status).toBe('ok');
  });

  it('keeps the banner on a failed view unless the node is unreachable', () => {
    const loaded = clusterLoaded(initialClusterState, view);
    const failed = clusterFailed(
      loaded,
      new ApiError('http', 500, { title: 'Server error', status: 500, errors: [] }),
    );
    expect(failed).toBe(loaded);
    expect(failed.status).toBe('ok');
    expect(clusterFailed(loaded, networkError(new Error('down')))).toEqual({
      status: 'unreachable',
      statusDetail: 'The node is unreachable: down',
    });
  });
});

describe('events store', () => {
  it('keeps the newest first and drops duplicates from an overlapping backlog', () => {
    let state = eventsReceived(initialEventsState, [entityEvent(1, 10), entityEvent(2, 11, 'services')]);
    state = eventsReceived(state, [entityEvent(2, 11, 'services'), entityEvent(3, 12)]);
    expect(state.events.map((e) => e.seq)).toEqual([3, 2, 1]);
    const leader = normaliseEvent('event', {
      kind: 'cluster',
      type: 'leader',
      leaderId: 'n2',
      index: 12,
      seq: 4,
    });
    state = eventsReceived(state, leader ? [leader] : []);
    expect(state.events.map((e) => e.type)).toEqual([
      'cluster.leader',
      'entity.create',
      'entity.create',
      'entity.create',
    ]);
  });

  it('returns the same state when nothing is new', () => {
    const state = eventsReceived(initialEventsState, [entityEvent(1, 10)]);
    expect(eventsReceived(state, [entityEvent(1, 10)])).toBe(state);
  });

  it('holds at most MAX_EVENTS', () => {
    const many = Array.from({ length: MAX_EVENTS + 10 }, (_, i) => entityEvent(i + 1, i + 1));
    const state = eventsReceived(initialEventsState, many);
    expect(state.events).toHaveLength(MAX_EVENTS);
    expect(state.events[0]?.seq).toBe(MAX_EVENTS + 10);
  });

  it('filters by type prefix, collection and text', () => {
    const events = [entityEvent(1, 1, 'identities', 'create'), entityEvent(2, 2, 'services', 'delete')];
    expect(filterEvents(events, { type: 'entity.del', collection: '', text: '' }).map((e) => e.seq)).toEqual([
      2,
    ]);
    expect(filterEvents(events, { type: '', collection: 'identities', text: '' }).map((e) => e.seq)).toEqual([
      1,
    ]);
    expect(filterEvents(events, { type: '', collection: '', text: 'E2' }).map((e) => e.seq)).toEqual([2]);
  });
});

describe('table store', () => {
  it('remembers sort and page size per collection, and starts unfiltered', () => {
    const storage = memoryStorage();
    const sortable = new Set(['name', 'createdAt']);
    const store = createTableStore('identities', storage, sortable);
    store.getState().setSearch('lap');
    store.getState().toggleSort('name');
    store.getState().toggleSort('name');
    store.getState().setPageSize(50);
    store.getState().goToPage(3, 1000);
    expect(store.getState()).toMatchObject({
      search: 'lap',
      sort: { field: 'name', direction: 'desc' },
      limit: 50,
      offset: 150,
    });

    const reopened = createTableStore('identities', storage, sortable);
    expect(reopened.getState()).toMatchObject({
      search: '',
      sort: { field: 'name', direction: 'desc' },
      limit: 50,
      offset: 0,
    });
    expect(createTableStore('services', storage, sortable).getState().limit).toBe(25);
  });

  it('ignores remembered preferences that no longer fit', () => {
    const sortable = new Set(['name']);
    expect(restorePrefs({ sort: { field: 'gone', direction: 'asc' }, limit: 7 }, sortable)).toEqual({});
    expect(restorePrefs('junk', sortable)).toEqual({});
    const storage = memoryStorage();
    storage.setItem(tableKey('routers'), '{broken');
    expect(createTableStore('routers', storage, sortable).getState().sort).toBeNull();
  });
});
