/**
 * The sample model `meshdesk lab` seeds, so a newcomer has something to look at: a few identities,
 * services and routers, and the policies that let employees reach internal services.
 */
export interface SampleOperation {
  readonly op: 'create';
  readonly collection: string;
  readonly data: Record<string, unknown>;
}

const create = (collection: string, data: Record<string, unknown>): SampleOperation => ({
  op: 'create',
  collection,
  data,
});

export const SAMPLE_MODEL: readonly SampleOperation[] = [
  create('identities', { name: 'alice-laptop', type: 'User', roleAttributes: ['employees'] }),
  create('identities', { name: 'bob-phone', type: 'User', roleAttributes: ['employees', 'mobile'] }),
  create('identities', { name: 'build-server', type: 'Device', roleAttributes: ['servers'] }),
  create('services', { name: 'wiki', roleAttributes: ['internal'] }),
  create('services', { name: 'git', roleAttributes: ['internal', 'engineering'] }),
  create('services', { name: 'printer', roleAttributes: ['office'] }),
  create('routers', { name: 'edge-hq', roleAttributes: ['hq'], cost: 10 }),
  create('routers', { name: 'edge-branch', roleAttributes: ['branch'], cost: 20 }),
  create('service-policies', {
    name: 'employees-dial-internal',
    type: 'Dial',
    identityRoles: ['#employees'],
    serviceRoles: ['#internal'],
  }),
  create('service-policies', {
    name: 'servers-bind-internal',
    type: 'Bind',
    identityRoles: ['#servers'],
    serviceRoles: ['#internal'],
  }),
  create('edge-router-policies', {
    name: 'everyone-all-routers',
    identityRoles: ['#all'],
    routerRoles: ['#all'],
  }),
  create('service-edge-router-policies', {
    name: 'all-services-all-routers',
    serviceRoles: ['#all'],
    routerRoles: ['#all'],
  }),
];

/** The router agents `meshdesk lab --routers M` runs: `router-1` … `router-M`, cost 10 each. */
export function labRouterNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `router-${i + 1}`);
}

/** Where the lab's sample services terminate: on the last lab router. */
export const LAB_TERMINATED_SERVICES: readonly string[] = ['wiki', 'git'];
