/** A circuit as the node answers one, for the runtime tests; each test changes what it is about. */
import { circuit } from '../../../contract/index.js';
import type { Circuit } from '../../../renderer/src/api/types.js';
import { answer } from '../../support/contract-fixtures.js';

export function circuitFixture(overrides: Partial<Circuit> = {}): Circuit {
  return answer(circuit, {
    id: 'c1',
    owner: 'n2',
    ownerName: 'node-2',
    identityId: 'i1',
    serviceId: 's1',
    ingress: 'r1',
    egress: 'r2',
    terminatorId: 't1',
    path: { routers: ['r1', 'r2'], links: ['l1'], cost: 3.4 },
    routerNames: ['router-1', 'router-2'],
    createdAt: '2030-01-01T00:00:01.000Z',
    updatedAt: '2030-01-01T00:00:01.000Z',
    reroutes: 1,
    ...overrides,
  });
}
