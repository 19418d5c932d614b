/**
 * Where the Jepsen runner's nodes live. The cluster (cluster.ts) spawns every `meshdesk start`
 * through a NodeHost, so the same runner drives nodes on loopback (loopback.ts) or in network
 * namespaces (netns.ts), and cuts the network through a Partitioner: the nodes' own test-only
 * fault route on loopback, blackhole routes between namespaces.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface NodeHost {
  readonly kind: 'loopback' | 'netns';
  /** host:port the node's API listens on, reachable from the runner */
  api(i: number): HostPort;
  /** host:port the node's cluster listener listens on / advertises */
  cluster(i: number): HostPort;
  /**
   * Starts node i's process. The returned ChildProcess's pid must be the node itself (not a
   * wrapper that survives it), because the nemesis signals it (SIGKILL, SIGSTOP, SIGCONT).
   */
  spawn(i: number, command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  close(): Promise<void>;
}

export interface Partitioner {
  /** Only nodes within one group reach each other; a node in no group is cut off from all. */
  partition(groups: readonly (readonly number[])[]): Promise<void>;
  heal(): Promise<void>;
}
