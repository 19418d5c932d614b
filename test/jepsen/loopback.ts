/**
 * Nodes on 127.0.0.1 with ports chosen free when the host is made (kept across restarts, so a
 * restarted node is where its peers remember it). Partitions come from the nodes' own test-only
 * fault route (partitioner.ts), since loopback has no network to cut.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { freePort } from '../support/kv-cluster.js';
import type { HostPort, NodeHost } from './host.js';

export class LoopbackHost implements NodeHost {
  readonly kind = 'loopback';

  private constructor(private readonly ports: readonly { api: number; cluster: number }[]) {}

  static async create(nodes: number): Promise<LoopbackHost> {
    const ports: { api: number; cluster: number }[] = [];
    const taken = new Set<number>();
    const fresh = async (): Promise<number> => {
      for (;;) {
        const port = await freePort();
        if (!taken.has(port)) {
          taken.add(port);
          return port;
        }
      }
    };
    for (let i = 0; i < nodes; i++) ports.push({ api: await fresh(), cluster: await fresh() });
    return new LoopbackHost(ports);
  }

  api(i: number): HostPort {
    return { host: '127.0.0.1', port: this.port(i).api };
  }

  cluster(i: number): HostPort {
    return { host: '127.0.0.1', port: this.port(i).cluster };
  }

  spawn(_i: number, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    return spawn(command, [...args], options);
  }

  async close(): Promise<void> {}

  private port(i: number): { api: number; cluster: number } {
    const p = this.ports[i];
    if (!p) throw new Error(`no node ${i}`);
    return p;
  }
}
