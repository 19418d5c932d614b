/**
 * Where a run's nodes live: `loopback` (127.0.0.1, partitions through the nodes' fault route) or
 * `netns` (one network namespace per node, partitions as blackhole routes: netns.ts). When
 * namespaces cannot be made here, a netns run says why in one line and runs on loopback.
 */
import type { NodeHost, Partitioner } from './host.js';
import { LoopbackHost } from './loopback.js';
import { NetnsLan } from './netns.js';

export type Net = 'loopback' | 'netns';

export interface OpenedHost {
  readonly host: NodeHost;
  /** The host's own partitioner (netns); undefined: use the fault route. */
  readonly partitioner?: Partitioner;
}

export async function openHost(net: Net, nodes: number, log: (line: string) => void): Promise<OpenedHost> {
  if (net === 'netns') {
    const reason = await NetnsLan.available();
    if (reason === undefined) {
      const lan = await NetnsLan.create(nodes);
      return { host: lan, partitioner: lan };
    }
    log(`jepsen: skipping netns (${reason}); running on loopback with fault hooks`);
  }
  return { host: await LoopbackHost.create(nodes) };
}
