/**
 * `npm run bench -- model`: the replicated model in-process, at the size of a large small site:
 * 100k identities, 1k services, 1k service policies, 50 routers (and the edge router and service
 * edge router policies that let them dial). Policy checks per second (random pairs, nearly all
 * denied, and pairs that are allowed), batched apply throughput,
 * the p50 of one write at 1k and at 100k identities (and their ratio), snapshot export time and
 * size, restore time, and the process's resident memory.
 */
import { encodeCommand, type ModelCommand, type SingleCommand } from '../../core/model/commands.js';
import type { Collection } from '../../core/model/entities.js';
import { PolicyIndex } from '../../core/model/policy/index.js';
import { ModelStateMachine } from '../../core/model/state-machine.js';
import { figure, repeat, summarize, type BenchOptions, type Figure } from './stats.js';

const AT = '2026-11-26T00:00:00.000Z';
const BATCH = 1_000;

interface Sizes {
  identities: number;
  services: number;
  policies: number;
  routers: number;
}

class Loaded {
  private index = 0;
  constructor(readonly sm: ModelStateMachine) {}
  apply(command: ModelCommand): unknown {
    this.index++;
    return this.sm.apply([{ index: this.index, term: 1, data: encodeCommand(command) }], this.index)[0];
  }
  batch(commands: SingleCommand[]): void {
    for (let i = 0; i < commands.length; i += BATCH)
      this.apply({ op: 'batch', commands: commands.slice(i, i + BATCH) });
  }
}

const create = (collection: Collection, id: string, data: Record<string, unknown>): SingleCommand => ({
  op: 'create',
  collection,
  id,
  at: AT,
  data,
});

async function load(sizes: Sizes): Promise<{ model: Loaded; identitiesMs: number }> {
  const sm = await ModelStateMachine.create((db) => new PolicyIndex(db));
  const model = new Loaded(sm);
  model.batch(
    Array.from({ length: sizes.routers }, (_, i) =>
      create('routers', `r${i}`, { name: `router-${i}`, roleAttributes: [`zone${i % 5}`] }),
    ),
  );
  model.batch(
    Array.from({ length: sizes.services }, (_, i) =>
      create('services', `s${i}`, { name: `service-${i}`, roleAttributes: [`app${i % 100}`] }),
    ),
  );
  model.batch([
    create('edge-router-policies', 'erp', {
      name: 'all-routers',
      identityRoles: ['#all'],
      routerRoles: ['#all'],
    }),
    create('service-edge-router-policies', 'serp', {
      name: 'all-services',
      serviceRoles: ['#all'],
      routerRoles: ['#all'],
    }),
  ]);
  model.batch(
    Array.from({ length: sizes.policies }, (_, i) =>
      create('service-policies', `p${i}`, {
        name: `policy-${i}`,
        type: i % 2 ? 'Bind' : 'Dial',
        identityRoles: [`#team${i % 200}`],
        serviceRoles: [`#app${i % 100}`],
      }),
    ),
  );
  const start = performance.now();
  model.batch(
    Array.from({ length: sizes.identities }, (_, i) =>
      create('identities', `i${i}`, { name: `identity-${i}`, roleAttributes: [`team${i % 200}`, 'staff'] }),
    ),
  );
  return { model, identitiesMs: performance.now() - start };
}

/**
 * The k-th of a spread of (identity, service) pairs that may Dial, from how load() assigns roles:
 * identity i is in the policies of team i % 200 (Dial when even), which reach the services of app
 * team % 100. The main check loop's pairs are almost all denied, as random pairs are.
 */
function allowedPair(k: number, sizes: Sizes): [string, string] {
  const identity = (k * 7919 * 2) % sizes.identities;
  const app = (identity % 200) % 100;
  return [`i${identity}`, `s${(app + 100 * (k % 10)) % sizes.services}`];
}

/** The p50 of `n` single-command writes (one Raft entry each). */
function writeP50(model: Loaded, tag: string, n: number): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    model.apply(create('identities', `${tag}-${i}`, { name: `${tag}-${i}`, roleAttributes: ['team1'] }));
    times.push(performance.now() - start);
  }
  return summarize(times).median;
}

export async function runModel(options: BenchOptions): Promise<Figure[]> {
  const full: Sizes = options.quick
    ? { identities: 2_000, services: 100, policies: 100, routers: 10 }
    : { identities: 100_000, services: 1_000, policies: 1_000, routers: 50 };
  const context = { ...full };
  const runs = await repeat(
    async () => {
      const small = await load({ ...full, identities: 1_000 });
      const smallP50 = writeP50(small.model, 'w', 300);
      small.model.sm.model.close();
      const { model, identitiesMs } = await load(full);
      // Resident memory with the full model loaded (sql.js keeps one WebAssembly heap per process).
      const rssMb = process.memoryUsage().rss / 1e6;
      const largeP50 = writeP50(model, 'w', 300);
      const index = new PolicyIndex(model.sm.model);
      const checks = options.quick ? 5_000 : 200_000;
      const checkStart = performance.now();
      for (let i = 0; i < checks; i++)
        index.policyCheck(`i${(i * 7919) % full.identities}`, `s${i % full.services}`, 'Dial');
      const checksPerSec = checks / ((performance.now() - checkStart) / 1000);
      const allowedStart = performance.now();
      for (let i = 0; i < checks; i++) {
        const [identity, service] = allowedPair(i, full);
        index.policyCheck(identity, service, 'Dial');
      }
      const allowedPerSec = checks / ((performance.now() - allowedStart) / 1000);
      const exportStart = performance.now();
      const bytes = model.sm.snapshot();
      const exportMs = performance.now() - exportStart;
      const restored = await ModelStateMachine.create((db) => new PolicyIndex(db));
      const restoreStart = performance.now();
      restored.restore(bytes);
      const restoreMs = performance.now() - restoreStart;
      restored.model.close();
      model.sm.model.close();
      return {
        applyPerSec: full.identities / (identitiesMs / 1000),
        smallP50,
        largeP50,
        checksPerSec,
        allowedPerSec,
        exportMs,
        snapshotMb: bytes.length / 1e6,
        restoreMs,
        rssMb,
      };
    },
    { ...options, warmup: 0 },
  );
  const pick = (f: (r: (typeof runs)[number]) => number): number[] => runs.map(f);
  return [
    figure(
      'model',
      'policy_checks',
      'checks/s',
      pick((r) => r.checksPerSec),
      context,
    ),
    figure(
      'model',
      'policy_checks_allowed',
      'checks/s',
      pick((r) => r.allowedPerSec),
      context,
    ),
    figure(
      'model',
      'apply_batched',
      'commands/s',
      pick((r) => r.applyPerSec),
      { ...context, batch: BATCH },
    ),
    figure(
      'model',
      'write_p50_1k',
      'ms',
      pick((r) => r.smallP50),
      { ...context, identities: 1_000 },
    ),
    figure(
      'model',
      'write_p50_100k',
      'ms',
      pick((r) => r.largeP50),
      context,
    ),
    figure(
      'model',
      'write_p50_100k_vs_1k',
      'ratio',
      pick((r) => r.largeP50 / r.smallP50),
      context,
    ),
    figure(
      'model',
      'snapshot_export',
      'ms',
      pick((r) => r.exportMs),
      context,
    ),
    figure(
      'model',
      'snapshot_size',
      'MB',
      pick((r) => r.snapshotMb),
      context,
    ),
    figure(
      'model',
      'snapshot_restore',
      'ms',
      pick((r) => r.restoreMs),
      context,
    ),
    figure(
      'model',
      'rss',
      'MB',
      pick((r) => r.rssMb),
      context,
    ),
  ];
}
