/**
 * Partitions between real processes on one host, through each node's test-only fault route
 * (`PUT /api/v1/debug/faults`, MESHDESK_FAULT_INJECTION=1). A transport cut is complete only
 * when both ends set it, so every node gets the table of all the nodes outside its group.
 */
import type { ApiClient } from './client.js';
import type { JepsenCluster } from './cluster.js';
import type { Partitioner } from './host.js';

export class FaultRoutePartitioner implements Partitioner {
  constructor(
    private readonly cluster: JepsenCluster,
    private readonly api: ApiClient,
  ) {}

  async partition(groups: readonly (readonly number[])[]): Promise<void> {
    const all = this.cluster.nodes.map((n) => n.index);
    await Promise.all(
      all.map((i) => {
        const mine = groups.find((g) => g.includes(i)) ?? [i];
        const cut = all.filter((j) => !mine.includes(j));
        return this.put(i, Object.fromEntries(cut.map((j) => [this.cluster.node(j).nodeId, { cut: true }])));
      }),
    );
  }

  async heal(): Promise<void> {
    await Promise.all(this.cluster.nodes.map((n) => this.put(n.index, {})));
  }

  /** Sets node i's table; a node that is down has none (a restart starts clean). */
  private async put(i: number, peers: Record<string, { cut: boolean }>): Promise<void> {
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.cluster.node(i).state === 'down') return;
      try {
        const answer = await this.api.call(i, 'PUT', '/debug/faults', { body: { peers }, timeoutMs: 2_000 });
        if (answer.status === 200) return;
        last = `${answer.status} ${answer.text.slice(0, 200)}`;
      } catch (err) {
        last = String(err);
      }
    }
    throw new Error(`could not set the fault table of n${i}: ${last}`);
  }
}
