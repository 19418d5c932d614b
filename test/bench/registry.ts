/**
 * The benchmarks `npm run bench` knows. A new benchmark is a file exporting its run function and one
 * line here; modules load only when their benchmark runs, so listing stays fast and one broken
 * benchmark does not stop the others.
 */
import type { Benchmark } from './stats.js';

export const benchmarks: readonly Benchmark[] = [
  {
    name: 'raft',
    description:
      'committed entries/s of the pure RaftCore, 3 nodes in memory, 200-byte entries, batch 1 and 64',
    run: async (options) => (await import('./raft.js')).runRaft(options),
  },
  {
    name: 'node',
    description:
      '3 node processes on loopback: proposals/s, p50/p99 at 1/16/64 proposers, fsyncs/s; append vs bare fdatasync',
    run: async (options) => (await import('./node.js')).runNode(options),
  },
  {
    name: 'model',
    description:
      'the model in-process at 100k identities: policy checks/s, batched apply, write p50 1k vs 100k, snapshot, RSS',
    run: async (options) => (await import('./model.js')).runModel(options),
  },
  {
    name: 'api',
    description:
      '3 meshdesk processes (and a 3-member etcd when installed): writes at 1/16/64 clients, local reads, failover',
    run: async (options) => (await import('./api.js')).runApi(options),
  },
  {
    name: 'runtime',
    description:
      'runtime in-process: circuit creations/s and p50/p99 over a 50-router mesh, path computation at 200 routers, memory per 10k circuits',
    run: async (options) => (await import('./runtime.js')).runRuntime(options),
  },
];
