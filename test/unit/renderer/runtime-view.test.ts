/** The runtime page's view: its transitions as pure functions, and what runtime events make stale. */
import { describe, expect, it } from 'vitest';
import { normaliseEvent } from '../../../renderer/src/api/events.js';
import { ApiError, networkError } from '../../../renderer/src/api/problem.js';
import type { Circuit, RuntimeStatus } from '../../../renderer/src/api/types.js';
import {
  isNoRuntime,
  runtimeView,
  unnamedIds,
  withNames,
  withoutCircuit,
  type RuntimeSnapshot,
} from '../../../renderer/src/model/runtime.js';
import { queryKeys, staleAfter } from '../../../renderer/src/queries.js';
import { circuitFixture } from './runtime-fixtures.js';

const status: RuntimeStatus = {
  controller: 'n1',
  routers: [],
  links: 0,
  circuits: 0,
  dropped: {},
  droppedTotal: 0,
  refusedHandshakes: 0,
  sessionsCut: 0,
  faultsReceived: 0,
  faultsNotOwned: 0,
  reroutes: 0,
  delayMs: 0,
};

function circuit(id: string, identityId = 'i1', serviceId = 's1'): Circuit {
  return circuitFixture({ id, identityId, serviceId });
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

describe('runtime view', () => {
  it('takes a snapshot whole, and clears the unreachable members once they answer', () => {
    let view = runtimeView(snapshot([circuit('c1')], ['n3']));
    expect(view).toMatchObject({ status, unreachable: ['n3'], links: [], names: {} });
    expect(view.circuits.map((c) => c.id)).toEqual(['c1']);
    view = runtimeView(snapshot([]), view.names);
    expect([view.unreachable, view.circuits]).toEqual([[], []]);
  });

  it('tells a node without runtime apart from one without a leader', () => {
    expect(isNoRuntime(noRuntime)).toBe(true);
    expect(isNoRuntime(new ApiError('http', 503, { title: 'No leader', status: 503, errors: [] }))).toBe(
      false,
    );
    expect(isNoRuntime(networkError(new Error('ECONNREFUSED')))).toBe(false);
  });

  it('removes a deleted circuit at once', () => {
    const view = runtimeView(snapshot([circuit('c1'), circuit('c2')]));
    const deleted = withoutCircuit(view, 'c1');
    expect(deleted?.circuits.map((c) => c.id)).toEqual(['c2']);
    expect(withoutCircuit(deleted, 'nope')).toBe(deleted);
    // Before the first load there is no view to change: the load that follows brings it.
    expect(withoutCircuit(undefined, 'c3')).toBeUndefined();
  });

  it('asks only for the names it does not know, and keeps them across snapshots', () => {
    let view = runtimeView(
      snapshot([circuit('c1', 'i1', 's1'), circuit('c2', 'i2', 's1'), circuit('c3', 'i1', 's2')]),
    );
    expect(unnamedIds(view)).toEqual({ identities: ['i1', 'i2'], services: ['s1', 's2'] });
    view = withNames(view, { i1: 'alice', s1: 'wiki' });
    view = withNames(view, { s2: 'chat' });
    expect(view.names).toEqual({ i1: 'alice', s1: 'wiki', s2: 'chat' });
    expect(unnamedIds(view)).toEqual({ identities: ['i2'], services: [] });
    view = runtimeView(snapshot([circuit('c4', 'i2', 's2')]), view.names);
    expect(unnamedIds(view)).toEqual({ identities: ['i2'], services: [] });
  });
});

describe('runtime events', () => {
  it('are named runtime.<type> and make the runtime view stale, not entity or cluster data', () => {
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
    const stale = staleAfter([up, created, up]);
    expect(
      [
        queryKeys.runtime,
        queryKeys.cluster,
        queryKeys.list('identities', {}),
        queryKeys.entity('identities', 'l1'),
        queryKeys.policyCheck('i1', 's1', 'Dial'),
        queryKeys.health,
      ].map(stale),
    ).toEqual([true, false, false, false, false, false]);
  });
});
