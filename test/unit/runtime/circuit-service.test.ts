/**
 * Circuit creation, reroute and teardown against a real model (policy index included); the
 * routers are an in-memory route sender that records what each router holds.
 */
import { describe, expect, it } from 'vitest';
import { CircuitService, type RouteSender } from '../../../core/runtime/circuit-service.js';
import { RuntimeError } from '../../../core/runtime/errors.js';
import { missingLinks } from '../../../core/runtime/link-plan.js';
import { LinkTable } from '../../../core/runtime/link-table.js';
import { modelView } from '../../../core/runtime/model-view.js';
import type { RouteEntry } from '../../../core/runtime/forwarding.js';
import { waitFor } from '../../support/wait.js';
import { routerName, runtimeFixture } from './model-fixture.js';

/** Routers as route tables; `offline` ones refuse. */
class RouterTables implements RouteSender {
  readonly tables = new Map<string, Map<string, RouteEntry>>();
  readonly offline = new Set<string>();
  constructor(readonly online: Set<string>) {}
  connected(router: string): boolean {
    return this.online.has(router);
  }
  async route(router: string, entry: RouteEntry): Promise<void> {
    if (this.offline.has(router)) throw new Error(`${router} refused`);
    let table = this.tables.get(router);
    if (!table) this.tables.set(router, (table = new Map()));
    table.set(entry.circuitId, entry);
  }
  async unroute(router: string, circuitId: string): Promise<void> {
    this.tables.get(router)?.delete(circuitId);
  }
  holding(circuitId: string): string[] {
    return [...this.tables]
      .filter(([, t]) => t.has(circuitId))
      .map(([r]) => r)
      .sort();
  }
}

async function setup(routers = 4, terminatorsOn?: number[]) {
  const sm = await runtimeFixture({ routers, ...(terminatorsOn ? { terminatorsOn } : {}) });
  const names = Array.from({ length: routers }, (_, i) => routerName(i));
  const links = new LinkTable();
  // A full mesh; the direct link between the first and the last router is slow.
  for (const { dialer, acceptor } of missingLinks(
    names.map((n) => ({ id: n, name: n, listen: 'x:1' })),
    [],
  )) {
    const slow = dialer.id === names[0] && acceptor.id === names.at(-1);
    links.up(dialer.id, {
      id: `${dialer.id}-${acceptor.id}`,
      dialer: dialer.id,
      acceptor: acceptor.id,
      latencyMs: slow ? 50 : 2,
    });
  }
  const sender = new RouterTables(new Set(names));
  let n = 0;
  const changes: string[] = [];
  const service = new CircuitService({
    self: 'ctrl-1',
    model: modelView(() => sm.model),
    links,
    sender,
    newId: () => `c${++n}`,
    onChange: (c) => changes.push(`${c.type} ${c.circuit.id}`),
  });
  return { service, links, sender, names, changes };
}

describe('circuits', () => {
  it('creates a circuit on the cheapest path, routes every router on it, names itself owner', async () => {
    const { service, sender, changes } = await setup();
    const circuit = await service.create({ identity: 'alice', service: 'wiki', ingress: 'r000' });
    // Direct r000-r003 costs 50; via one router 2 + 1 + 2 (router costs 1 each, plus both ends).
    expect(circuit.path.routers).toHaveLength(3);
    expect(circuit.path.routers[0]).toBe('r000');
    expect(circuit.egress).toBe('r003');
    expect(circuit.owner).toBe('ctrl-1');
    expect(sender.holding('c1')).toEqual([...circuit.path.routers].sort());
    for (const router of circuit.path.routers)
      expect(sender.tables.get(router)?.get('c1')?.owner).toBe('ctrl-1');
    expect(sender.tables.get('r003')?.get('c1')?.terminator).toEqual({
      id: 't-r003',
      address: 'tcp:wiki:80',
    });
    expect(changes).toEqual(['circuit.created c1']);
  });

  it('refuses a denied identity with the policy reason and records nothing', async () => {
    const { service, sender } = await setup();
    const refused = service.create({ identity: 'mallory', service: 'wiki', ingress: 'r000' });
    await expect(refused).rejects.toMatchObject({
      code: 'POLICY_DENIED',
      message: expect.stringContaining('mallory may not dial wiki'),
    });
    expect(service.circuits.size).toBe(0);
    expect(sender.tables.size).toBe(0);
  });

  it('names what is unknown or unreachable', async () => {
    const { service, sender } = await setup();
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: RuntimeError) => e.code,
      );
    expect(await codeOf(service.create({ identity: 'nobody', service: 'wiki', ingress: 'r000' }))).toBe(
      'UNKNOWN_IDENTITY',
    );
    expect(await codeOf(service.create({ identity: 'alice', service: 'nothing', ingress: 'r000' }))).toBe(
      'UNKNOWN_SERVICE',
    );
    expect(await codeOf(service.create({ identity: 'alice', service: 'wiki', ingress: 'r999' }))).toBe(
      'UNKNOWN_ROUTER',
    );
    sender.online.delete('r003');
    expect(await codeOf(service.create({ identity: 'alice', service: 'wiki', ingress: 'r000' }))).toBe(
      'NO_TERMINATOR',
    );
    sender.online.delete('r000');
    expect(await codeOf(service.create({ identity: 'alice', service: 'wiki', ingress: 'r000' }))).toBe(
      'ROUTER_NOT_CONNECTED',
    );
  });

  it('undoes a creation a router refused', async () => {
    const { service, sender } = await setup();
    sender.offline.add('r003');
    await expect(
      service.create({ identity: 'alice', service: 'wiki', ingress: 'r000' }),
    ).rejects.toMatchObject({ code: 'ROUTE_FAILED' });
    expect(service.circuits.size).toBe(0);
    expect(sender.holding('c1')).toEqual([]);
  });

  it('reroutes around a failed link and moves the routes', async () => {
    const { service, sender, links, changes } = await setup();
    const circuit = await service.create({ identity: 'alice', service: 'wiki', ingress: 'r000' });
    const cut = circuit.path.links[1] as string;
    const middle = circuit.path.routers[1] as string;
    links.down(middle, cut);
    await service.linkFailed(cut);
    const moved = service.circuits.get('c1');
    expect(moved?.path.links).not.toContain(cut);
    expect(moved?.reroutes).toBe(1);
    expect(sender.holding('c1')).toEqual([...(moved?.path.routers ?? [])].sort());
    expect(changes).toEqual(['circuit.created c1', 'circuit.rerouted c1']);
  });

  it('tears a circuit down with a reason when no path is left', async () => {
    const { service, sender, links, changes } = await setup(2);
    await service.create({ identity: 'alice', service: 'wiki', ingress: 'r000' });
    links.down('r000', 'r000-r001');
    await service.linkFailed('r000-r001');
    expect(service.circuits.size).toBe(0);
    expect(sender.holding('c1')).toEqual([]);
    expect(changes).toEqual(['circuit.created c1', 'circuit.deleted c1']);
  });

  it('takes a fault only from a router on the path, about a link beside it', async () => {
    const { service, sender, names, changes } = await setup();
    const circuit = await service.create({ identity: 'alice', service: 'wiki', ingress: 'r000' });
    const [ingress, middle, egress] = circuit.path.routers as [string, string, string];
    const [first, second] = circuit.path.links as [string, string];
    const outsider = names.find((n) => !circuit.path.routers.includes(n)) as string;
    // A router elsewhere in the network, or one on the path naming a link away from it: nothing.
    expect(service.fault(outsider, { circuitId: 'c1', reason: 'tear it down' })).toBe('off-path');
    expect(service.fault(outsider, { circuitId: 'c1', linkId: first, reason: 'cut' })).toBe('off-path');
    expect(service.fault(ingress, { circuitId: 'c1', linkId: second, reason: 'cut' })).toBe('off-path');
    expect(service.fault(outsider, { circuitId: 'c-unknown', reason: 'x' })).toBe('unknown');
    await Promise.resolve();
    expect(service.circuits.get('c1')).toEqual(circuit);
    expect(sender.holding('c1')).toEqual([...circuit.path.routers].sort());

    // The middle router reports the link beside it: the circuit moves off it.
    expect(service.fault(middle, { circuitId: 'c1', linkId: second, reason: 'cut' })).toBe('taken');
    await waitFor(() => changes.includes('circuit.rerouted c1'), 'the reroute');
    expect(service.circuits.get('c1')?.path.links).not.toContain(second);
    // The egress gives up (its terminator went away): the circuit is torn down everywhere.
    const now = service.circuits.get('c1')?.path.routers.at(-1) as string;
    expect(now).toBe(egress);
    expect(service.fault(egress, { circuitId: 'c1', reason: 'terminator gone' })).toBe('taken');
    await waitFor(() => changes.includes('circuit.deleted c1'), 'the teardown');
    expect(service.circuits.size).toBe(0);
    expect(sender.holding('c1')).toEqual([]);
    expect(changes).toEqual(['circuit.created c1', 'circuit.rerouted c1', 'circuit.deleted c1']);
  });

  it('removes a circuit on request and refuses one it does not own', async () => {
    const { service, sender } = await setup();
    await service.create({ identity: 'alice', service: 'wiki', ingress: 'r000' });
    await service.remove('c1', 'admin');
    expect(sender.holding('c1')).toEqual([]);
    await expect(service.remove('c1', 'again')).rejects.toMatchObject({ code: 'UNKNOWN_CIRCUIT' });
  });
});
