/** The runtime page's store: its transitions as pure functions, and runtime events in the event store. */
import { describe, expect, it } from 'vitest';
import { normaliseEvent } from '../../../renderer/src/api/events.js';
import { ApiError, networkError } from '../../../renderer/src/api/problem.js';
import type { Circuit, RuntimeStatus } from '../../../renderer/src/api/types.js';
import { eventsReceived, initialEventsState } from '../../../renderer/src/stores/events.js';
import {
  createRuntimeStore,
  initialRuntimeState,
  isNoRuntime,
  runtimeCircuitCreated,
  runtimeCircuitDeleted,
  runtimeFailed,
  runtimeLoadStarted,
  runtimeLoaded,
  runtimeNamesLoaded,
  unnamedIds,
  type RuntimeSnapshot,
} from '../../../renderer/src/stores/runtime.js';

const status: RuntimeStatus = {
  controller: 'n1',
  routers: [],
  links: 0,
  circuits: 0,
  dropped: {},
  droppedTotal: 0,
  refusedHandshakes: 0,
  faultsReceived: 0,
  faultsNotOwned: 0,
  reroutes: 0,
  delayMs: 0,
};

function circuit(id: string, identityId = 'i1', serviceId = 's1'): Circuit {
  return {
    id,
    owner: 'n1',
    ownerName: 'node-1',
    identityId,
    serviceId,
    ingress: 'r1',
    egress: 'r2',
    terminatorId: 't1',
    path: { routers: ['r1', 'r2'], links: ['l1'], cost: 2 },
    routerNames: ['router-1', 'router-2'],
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    reroutes: 0,
  };
}

function snapshot(circuits: Circuit[], unreachable: string[] = []): RuntimeSnapshot {
  return {
    status,
    links: { data: [], meta: { total: 0 } },
    circuits: { data: circuits, meta: { total: circuits.length, unreachable } },
  };
}

const noRuntime = new ApiError('http', 503, {
  title: 'Service Unavailable',
  status: 503,
  detail: 'this node runs without runtime data',
  code: 'NO_RUNTIME',
  errors: [],
});

describe('runtime store', () => {
  it('loads, and clears an earlier error and the unreachable members', () => {
    let state = runtimeLoadStarted(initialRuntimeState);
    expect(state.loading).toBe(true);
    state = runtimeFailed(state, networkError(new Error('ECONNREFUSED')));
    expect([state.loading, state.noRuntime, state.status]).toEqual([false, false, null]);
    state = runtimeLoaded(runtimeLoadStarted(state), snapshot([circuit('c1')], ['n3']));
    expect(state).toMatchObject({ loading: false, error: null, unreachable: ['n3'], links: [] });
    expect(state.circuits?.map((c) => c.id)).toEqual(['c1']);
    state = runtimeLoaded(state, snapshot([]));
    expect([state.unreachable, state.circuits]).toEqual([[], []]);
  });

  it('keeps the last good data on a failure, and tells a node without runtime apart', () => {
    const loaded = runtimeLoaded(initialRuntimeState, snapshot([circuit('c1')]));
    const failed = runtimeFailed(loaded, noRuntime);
    expect([failed.noRuntime, failed.error, failed.circuits?.length]).toEqual([true, noRuntime, 1]);
    expect(isNoRuntime(new ApiError('http', 503, { title: 'No leader', status: 503, errors: [] }))).toBe(
      false,
    );
    expect(runtimeLoaded(failed, snapshot([])).noRuntime).toBe(false);
  });

  it('adds a created circuit once and removes a deleted one', () => {
    let state = runtimeLoaded(initialRuntimeState, snapshot([circuit('c1')]));
    state = runtimeCircuitCreated(state, circuit('c2'));
    expect(runtimeCircuitCreated(state, circuit('c2'))).toBe(state);
    expect(state.circuits?.map((c) => c.id)).toEqual(['c1', 'c2']);
    state = runtimeCircuitDeleted(state, 'c1');
    expect(state.circuits?.map((c) => c.id)).toEqual(['c2']);
    expect(runtimeCircuitDeleted(state, 'nope')).toBe(state);
    // Before the first load there is nothing to delete; a create still shows.
    expect(runtimeCircuitCreated(initialRuntimeState, circuit('c3')).circuits?.length).toBe(1);
  });

  it('asks only for the names it does not know', () => {
    let state = runtimeLoaded(
      initialRuntimeState,
      snapshot([circuit('c1', 'i1', 's1'), circuit('c2', 'i2', 's1'), circuit('c3', 'i1', 's2')]),
    );
    expect(unnamedIds(state)).toEqual({ identities: ['i1', 'i2'], services: ['s1', 's2'] });
    state = runtimeNamesLoaded(state, { i1: 'alice', s1: 'wiki' });
    state = runtimeNamesLoaded(state, { s2: 'chat' });
    expect(state.names).toEqual({ i1: 'alice', s1: 'wiki', s2: 'chat' });
    expect(unnamedIds(state)).toEqual({ identities: ['i2'], services: [] });
  });

  it('runs the same transitions as a store', () => {
    const store = createRuntimeStore();
    store.getState().loadStarted();
    store.getState().loaded(snapshot([circuit('c1')]));
    store.getState().circuitDeleted('c1');
    store.getState().failed(noRuntime);
    expect(store.getState()).toMatchObject({ circuits: [], noRuntime: true, loading: false });
  });
});

describe('runtime events', () => {
  it('are named runtime.<type> and counted for the runtime page, not as entity or cluster changes', () => {
    const up = normaliseEvent('event', {
      kind: 'runtime',
      type: 'link.up',
      id: 'l1',
      routers: ['r1', 'r2'],
      index: 7,
      seq: 1,
      at: '2030-01-01T00:00:00.000Z',
    });
    const created = normaliseEvent('event', {
      kind: 'runtime',
      type: 'circuit.created',
      id: 'c1',
      index: 7,
      seq: 2,
    });
    if (!up || !created) throw new Error('not events');
    expect([up.type, up.entityId, up.collection]).toEqual(['runtime.link.up', 'l1', null]);
    const state = eventsReceived(initialEventsState, [up, created, up]);
    expect([state.runtimeChanges, state.clusterChanges, state.changes]).toEqual([2, 0, {}]);
  });
});
