/**
 * The query layer with a real QueryClient and observers like the pages' own: answers to older
 * requests never replace newer ones, events make stale exactly the keys they touch, and only
 * answers that land reach the banner.
 */
import {
  QueryObserver,
  type QueryClient,
  type QueryKey,
  type QueryObserverOptions,
} from '@tanstack/react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterView } from '../../../contract/index.js';
import type { AdminApi } from '../../../renderer/src/api/admin-api.js';
import { normaliseEvent } from '../../../renderer/src/api/events.js';
import { ApiError } from '../../../renderer/src/api/problem.js';
import type { ClusterView, Entity, MeshEvent } from '../../../renderer/src/api/types.js';
import {
  clusterQuery,
  createQueryClient,
  entityListQuery,
  entityQuery,
  invalidateAfter,
  queryKeys,
  staleAfter,
} from '../../../renderer/src/queries.js';

function event(payload: Record<string, string | number>): MeshEvent {
  const normalised = normaliseEvent('event', payload);
  if (!normalised) throw new Error('not an event');
  return normalised;
}

const entityEvent = (collection: string, id: string, op = 'update') =>
  event({ kind: 'entity', op, collection, id, index: 10, seq: 1 });

function view(term: number): ClusterView {
  const answer = { clusterId: 'c1', nodeId: 'n1', leaderId: 'n1', role: 'leader', term, commitIndex: term };
  return clusterView.parse({ ...answer, appliedIndex: term, members: [] });
}

/** Answers each call when the test says so, in any order. */
function deferred<T>() {
  const calls: { resolve(value: T): void; reject(error: unknown): void }[] = [];
  const call = () => new Promise<T>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, call };
}

/** Lets the query layer's promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const unsubscribes: (() => void)[] = [];
afterEach(() => {
  for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
});

/** A page that shows the query: an active observer, as useQuery makes. */
function watch<T, K extends QueryKey>(client: QueryClient, options: QueryObserverOptions<T, Error, T, T, K>) {
  const observer = new QueryObserver(client, options);
  unsubscribes.push(observer.subscribe(() => undefined));
  return observer;
}

describe('the cluster query', () => {
  it('keeps the newer view when a slow answer to an older request arrives after it', async () => {
    const cluster = deferred<ClusterView>();
    const banner: unknown[] = [];
    const client = createQueryClient((key, result) => {
      if (key[0] === 'cluster') banner.push('data' in result ? (result.data as ClusterView).term : 'error');
    });
    const api = { cluster: cluster.call } as unknown as AdminApi;
    const observer = watch(client, clusterQuery(api));
    expect(cluster.calls).toHaveLength(1);
    cluster.calls[0]?.resolve(view(1));
    await settle();
    expect(observer.getCurrentResult().data?.term).toBe(1);

    // Refresh asks again; the answer is slow. Meanwhile a cluster event makes the view stale.
    void observer.refetch();
    expect(cluster.calls).toHaveLength(2);
    const invalidated = invalidateAfter(client, [
      event({ kind: 'cluster', type: 'leader', leaderId: 'n2', seq: 2 }),
    ]);
    await settle();
    expect(cluster.calls).toHaveLength(3);
    cluster.calls[2]?.resolve(view(3));
    await invalidated;
    cluster.calls[1]?.resolve(view(2));
    await settle();

    expect(observer.getCurrentResult().data?.term).toBe(3);
    expect(client.getQueryData<ClusterView>(queryKeys.cluster)?.term).toBe(3);
    // The banner heard only the answers that landed.
    expect(banner).toEqual([1, 3]);
  });

  it('keeps the last view beside a failed reload, and tells the banner', async () => {
    const cluster = deferred<ClusterView>();
    const banner: unknown[] = [];
    const client = createQueryClient((key, result) => banner.push([key[0], 'error' in result]));
    const observer = watch(client, clusterQuery({ cluster: cluster.call } as unknown as AdminApi));
    cluster.calls[0]?.resolve(view(1));
    await settle();
    void observer.refetch();
    const failure = new ApiError('http', 500, { title: 'Server error', status: 500, errors: [] });
    cluster.calls[1]?.reject(failure);
    await settle();
    const result = observer.getCurrentResult();
    expect([result.data?.term, result.error, result.status]).toEqual([1, failure, 'error']);
    expect(banner).toEqual([
      ['cluster', false],
      ['cluster', true],
    ]);
  });
});

describe('events and the query cache', () => {
  it('an entity event reloads that entity and its collection’s lists, nothing else', async () => {
    const asked: string[] = [];
    const api = {
      getEntity: (collection: string, id: string) => {
        asked.push(`${collection}/${id}`);
        return Promise.resolve({ id, revision: 1 } satisfies Entity);
      },
      list: (collection: string) => {
        asked.push(`${collection} list`);
        return Promise.resolve({ data: [], meta: { total: 0 } });
      },
    } as unknown as AdminApi;
    const client = createQueryClient();
    watch(client, entityQuery(api, 'identities', 'e1'));
    watch(client, entityQuery(api, 'identities', 'e2'));
    watch(client, entityQuery(api, 'services', 'e1'));
    watch(client, entityListQuery(api, 'identities', { limit: 25 }));
    watch(client, entityListQuery(api, 'services', { limit: 25 }));
    await settle();
    asked.length = 0;

    await invalidateAfter(client, [entityEvent('identities', 'e1')]);
    expect(asked.sort()).toEqual(['identities list', 'identities/e1']);
    expect(client.getQueryState(queryKeys.entity('identities', 'e1'))?.dataUpdateCount).toBe(2);
    expect(client.getQueryState(queryKeys.entity('identities', 'e2'))?.dataUpdateCount).toBe(1);
  });

  it('asks again when an event arrives during the first load, and keeps the later answer', async () => {
    const entity = deferred<Entity>();
    const banner: unknown[] = [];
    const client = createQueryClient((key, result) => banner.push('error' in result ? 'error' : 'data'));
    const api = { getEntity: entity.call } as unknown as AdminApi;
    const observer = watch(client, entityQuery(api, 'identities', 'e1'));
    expect(entity.calls).toHaveLength(1);
    const invalidated = invalidateAfter(client, [entityEvent('identities', 'e1')]);
    await settle();
    expect(entity.calls).toHaveLength(2);
    entity.calls[1]?.resolve({ id: 'e1', revision: 2 });
    await invalidated;
    entity.calls[0]?.resolve({ id: 'e1', revision: 1 });
    await settle();
    expect(observer.getCurrentResult()).toMatchObject({ data: { revision: 2 }, error: null });
    // The dropped first load is not reported as a failure.
    expect(banner).toEqual(['data']);
  });

  it('makes stale only the keys each kind of event touches', () => {
    const keys: Record<string, QueryKey> = {
      identity: queryKeys.entity('identities', 'e1'),
      otherIdentity: queryKeys.entity('identities', 'e2'),
      identityList: queryKeys.list('identities', { limit: 25 }),
      serviceList: queryKeys.list('services', {}),
      policyCheck: queryKeys.policyCheck('e1', 's1', 'Dial'),
      cluster: queryKeys.cluster,
      invitations: queryKeys.invitations,
      clusterCa: queryKeys.clusterCa,
      runtime: queryKeys.runtime,
      health: queryKeys.health,
    };
    const staleKeys = (events: MeshEvent[]) => {
      const stale = staleAfter(events);
      return Object.keys(keys).filter((name) => stale(keys[name] ?? []));
    };
    expect(staleKeys([entityEvent('identities', 'e1', 'create')])).toEqual([
      'identity',
      'identityList',
      'policyCheck',
    ]);
    expect(staleKeys([entityEvent('services', 's1'), entityEvent('identities', 'e2', 'delete')])).toEqual([
      'otherIdentity',
      'identityList',
      'serviceList',
      'policyCheck',
    ]);
    // An entity event that names no id: every entity of its collection.
    expect(staleKeys([event({ kind: 'entity', op: 'update', collection: 'identities', seq: 3 })])).toEqual([
      'identity',
      'otherIdentity',
      'identityList',
      'policyCheck',
    ]);
    // A join spends a token: the join tokens reload with the cluster view.
    expect(staleKeys([event({ kind: 'cluster', type: 'member.added', seq: 4 })])).toEqual([
      'cluster',
      'invitations',
    ]);
    expect(staleKeys([event({ kind: 'runtime', type: 'circuit.deleted', id: 'c1', seq: 5 })])).toEqual([
      'runtime',
    ]);
    expect(staleKeys([])).toEqual([]);
  });
});
