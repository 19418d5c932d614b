/**
 * The clients of a run, all at once: each runs one operation at a time against its node until the
 * deadline or its operation budget, paced to about `rate` operations a second (a seeded gap between
 * invocations, none when the node is slower than that), and retires its process after an `info`.
 */
import type { SimRng } from '../../sim/rng.js';
import type { ApiClient } from '../client.js';
import type { Recorder } from '../recorder.js';
import { hold } from '../wait.js';
import { ClientState } from './client-state.js';
import { invocationOf, planOp, runOp, type Workloads } from './mix.js';

export interface ClientsOptions {
  readonly clients: number;
  readonly nodes: number;
  /** Stop invoking at this recorder time (ms since the run's start). */
  readonly untilMs: number;
  readonly maxOpsPerClient: number;
  /** Operations per second per client, at most. */
  readonly rate: number;
  readonly signal: AbortSignal;
}

export async function runClients(
  api: ApiClient,
  recorder: Recorder,
  workloads: Workloads,
  rng: SimRng,
  options: ClientsOptions,
): Promise<ClientState[]> {
  const clients = Array.from(
    { length: options.clients },
    (_, c) => new ClientState(c, options.clients, c % options.nodes, rng.fork(`client-${c}`)),
  );
  await Promise.all(
    clients.map(async (client) => {
      const pace = rng.fork(`pace-${client.index}`);
      for (let n = 0; n < options.maxOpsPerClient; n++) {
        const invokedAt = recorder.now();
        if (invokedAt >= options.untilMs || options.signal.aborted) break;
        const op = planOp(client.rng, client, workloads);
        const done = await recorder.record(invocationOf(op, client), () => runOp(api, client, op, workloads));
        if (done.outcome === 'info') client.retire();
        const gap = pace.float() * (2000 / options.rate);
        await hold(invokedAt + gap - recorder.now(), options.signal);
      }
    }),
  );
  return clients;
}
