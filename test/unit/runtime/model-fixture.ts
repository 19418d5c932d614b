/**
 * A real model (ModelStateMachine with its policy index) holding routers, identities, a service
 * and policies, for the runtime's tests and benchmark: `alice` (#employees) may dial `wiki`,
 * `mallory` may not; every router is usable by everyone; `wiki` terminates on the last router.
 */
import { encodeCommand, type SingleCommand } from '../../../core/model/commands.js';
import { ModelStateMachine } from '../../../core/model/state-machine.js';

const AT = '2026-01-01T00:00:00.000Z';

export interface FixtureOptions {
  readonly routers: number;
  /** Router indexes carrying a `wiki` terminator (default: the last one). */
  readonly terminatorsOn?: readonly number[];
  readonly routerCost?: number;
}

export const routerName = (i: number): string => `r${String(i).padStart(3, '0')}`;

export async function runtimeFixture(options: FixtureOptions): Promise<ModelStateMachine> {
  const sm = await ModelStateMachine.create();
  const create = (
    collection: Extract<SingleCommand, { op: 'create' }>['collection'],
    id: string,
    data: Record<string, unknown>,
  ): SingleCommand => ({
    op: 'create',
    collection,
    id,
    at: AT,
    data,
  });
  const commands: SingleCommand[] = [
    create('identities', 'alice', { name: 'alice', type: 'User', roleAttributes: ['employees'] }),
    create('identities', 'mallory', { name: 'mallory', type: 'User', roleAttributes: [] }),
    create('services', 'wiki', { name: 'wiki', roleAttributes: ['internal'] }),
    create('service-policies', 'sp', {
      name: 'employees-dial-internal',
      type: 'Dial',
      identityRoles: ['#employees'],
      serviceRoles: ['#internal'],
    }),
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
  ];
  for (let i = 0; i < options.routers; i++) {
    commands.push(create('routers', routerName(i), { name: routerName(i), cost: options.routerCost ?? 1 }));
  }
  for (const i of options.terminatorsOn ?? [options.routers - 1]) {
    commands.push(
      create('terminators', `t-${routerName(i)}`, {
        serviceId: 'wiki',
        routerId: routerName(i),
        address: 'tcp:wiki:80',
      }),
    );
  }
  const [result] = sm.apply([{ index: 1, term: 1, data: encodeCommand({ op: 'batch', commands }) }], 1);
  if ((result as { ok?: boolean }).ok !== true) throw new Error(`fixture refused: ${JSON.stringify(result)}`);
  return sm;
}
