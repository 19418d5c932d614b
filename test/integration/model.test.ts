/**
 * The model replicated by real node processes: a workload through every node, a kill -9 of the
 * leader in the middle of it, and at the end every node's database identical with every
 * acknowledged write in it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KvCluster } from '../support/kv-cluster.js';
import { waitFor } from '../support/wait.js';

const AT = '2026-11-26T00:00:00.000Z';
let cluster: KvCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('the model on a 3-node cluster of real processes', () => {
  it('ends identical on every node, losing no acknowledged write through a kill -9 of the leader', async () => {
    const c = (cluster = await KvCluster.start({ nodes: 3, stateMachine: 'model' }));
    let leader: number | undefined;
    await waitFor(async () => (leader = await c.leader()) !== undefined, 'a leader', 20_000);
    await c.command(0, {
      op: 'create',
      collection: 'routers',
      id: 'r1',
      at: AT,
      data: { name: 'edge', roleAttributes: ['eu'] },
    });

    const acked = new Set<string>();
    let stop = false;
    const clients = [0, 1, 2].map(async (client) => {
      for (let k = 0; !stop && k < 2_000; k++) {
        const id = `id-${client}-${k}`;
        const command =
          k % 5 === 4
            ? {
                op: 'create',
                collection: 'service-policies',
                id,
                at: AT,
                data: {
                  name: id,
                  type: 'Dial',
                  identityRoles: [`@id-${client}-${k - 1}`],
                  serviceRoles: ['#all'],
                },
              }
            : {
                op: 'create',
                collection: 'identities',
                id,
                at: AT,
                data: { name: id, roleAttributes: ['staff', `c${client}`] },
              };
        const res = await c.command((client + k) % 3, command).catch(() => undefined);
        if (res?.status === 200 && (res.body.result as { ok?: boolean })?.ok === true) acked.add(id);
      }
    });
    await waitFor(() => acked.size >= 60, '60 acknowledged writes', 60_000);
    await c.kill(leader as number);
    await waitFor(() => acked.size >= 120, '120 acknowledged writes after the kill', 60_000);
    await c.startNode(leader as number);
    await waitFor(() => acked.size >= 180, '180 acknowledged writes after the restart', 60_000);
    stop = true;
    await Promise.all(clients);

    // A fresh write applied everywhere marks the point by which all nodes must agree.
    let barrier: Record<string, unknown> | undefined;
    await waitFor(async () => {
      barrier = (
        await c.command(0, {
          op: 'create',
          collection: 'services',
          id: 'barrier',
          at: AT,
          data: { name: 'barrier' },
        })
      ).body;
      return barrier.index !== undefined;
    }, 'the barrier write');
    let dumps: Awaited<ReturnType<KvCluster['tables']>>[] = [];
    await waitFor(
      async () => {
        dumps = await Promise.all([0, 1, 2].map((i) => c.tables(i)));
        return dumps.every((d) => d.applied >= (barrier?.index as number));
      },
      'every node to apply the barrier',
      30_000,
    );
    for (const d of dumps.slice(1)) expect(d.tables).toEqual(dumps[0]?.tables);
    const stored = new Set(
      [...(dumps[0]?.tables.identities ?? []), ...(dumps[0]?.tables.service_policies ?? [])].map(
        (r) => (r as { id: string }).id,
      ),
    );
    for (const id of acked) expect(stored.has(id), `acknowledged ${id}`).toBe(true);
  }, 180_000);
});
