/**
 * The model's collections: for each, its table, its fields (API name → column and kind) and the
 * zod schema a create request must satisfy. Commands, apply and queries all read this one table.
 */
import { z } from 'zod';
import type { RoleEntityType } from './roles.js';

/** The REST names of the collections (DESIGN.md section 4). */
export const collectionNames = [
  'identities',
  'services',
  'routers',
  'terminators',
  'service-policies',
  'edge-router-policies',
  'service-edge-router-policies',
  'config-types',
  'configs',
  'posture-checks',
  'admins',
] as const;

export type CollectionName = (typeof collectionNames)[number];

export type FieldKind = 'string' | 'int' | 'bool' | 'json' | 'roles' | 'attributes' | 'ref';

export interface FieldSpec {
  readonly column: string;
  readonly kind: FieldKind;
  /** For `ref`: the collection the id must exist in. */
  readonly ref?: CollectionName;
  readonly optional?: boolean;
}

export interface CollectionSpec {
  readonly table: string;
  /** The column that must be unique across the collection (reported as NAME_TAKEN). */
  readonly unique?: string;
  /** The entity type whose role attributes this collection carries, if any. */
  readonly attributes?: RoleEntityType;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** What a create request must hold (after the node has turned secrets into hashes). */
  readonly create: z.ZodObject;
}

const name = z.string().trim().min(1).max(255);
const tags = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({});
const roles = z.array(z.string().max(255)).max(1000).default([]);
const attributes = z.array(z.string().max(255)).max(1000).default([]);
const cost = z.number().int().min(0).max(65535).default(0);
const precedence = z.enum(['default', 'required', 'failed']).default('default');
const semantic = z.enum(['AllOf', 'AnyOf']).default('AllOf');
const id = z.string().min(1).max(255);

const common = { tags: { column: 'tags', kind: 'json' } } as const satisfies Record<string, FieldSpec>;

export const collections = {
  identities: {
    table: 'identities',
    unique: 'name',
    attributes: 'identity',
    fields: {
      name: { column: 'name', kind: 'string' },
      type: { column: 'type', kind: 'string' },
      roleAttributes: { column: 'role_attributes', kind: 'attributes' },
      defaultHostingPrecedence: { column: 'default_hosting_precedence', kind: 'string' },
      defaultHostingCost: { column: 'default_hosting_cost', kind: 'int' },
      ...common,
    },
    create: z.strictObject({
      name,
      type: z.enum(['Device', 'User', 'Service', 'Router']).default('Device'),
      roleAttributes: attributes,
      defaultHostingPrecedence: precedence,
      defaultHostingCost: cost,
      tags,
    }),
  },
  services: {
    table: 'services',
    unique: 'name',
    attributes: 'service',
    fields: {
      name: { column: 'name', kind: 'string' },
      roleAttributes: { column: 'role_attributes', kind: 'attributes' },
      configs: { column: 'configs', kind: 'json' },
      encryptionRequired: { column: 'encryption_required', kind: 'bool' },
      terminatorStrategy: { column: 'terminator_strategy', kind: 'string' },
      ...common,
    },
    create: z.strictObject({
      name,
      roleAttributes: attributes,
      configs: z.array(id).max(100).default([]),
      encryptionRequired: z.boolean().default(true),
      terminatorStrategy: z.enum(['smartrouting', 'weighted', 'random', 'ha']).default('smartrouting'),
      tags,
    }),
  },
  routers: {
    table: 'routers',
    unique: 'name',
    attributes: 'router',
    fields: {
      name: { column: 'name', kind: 'string' },
      roleAttributes: { column: 'role_attributes', kind: 'attributes' },
      cost: { column: 'cost', kind: 'int' },
      noTraversal: { column: 'no_traversal', kind: 'bool' },
      disabled: { column: 'disabled', kind: 'bool' },
      tunnelerEnabled: { column: 'tunneler_enabled', kind: 'bool' },
      ...common,
    },
    create: z.strictObject({
      name,
      roleAttributes: attributes,
      cost,
      noTraversal: z.boolean().default(false),
      disabled: z.boolean().default(false),
      tunnelerEnabled: z.boolean().default(false),
      tags,
    }),
  },
  terminators: {
    table: 'terminators',
    fields: {
      serviceId: { column: 'service_id', kind: 'ref', ref: 'services' },
      routerId: { column: 'router_id', kind: 'ref', ref: 'routers' },
      address: { column: 'address', kind: 'string' },
      identityId: { column: 'identity_id', kind: 'ref', ref: 'identities', optional: true },
      cost: { column: 'cost', kind: 'int' },
      precedence: { column: 'precedence', kind: 'string' },
      ...common,
    },
    create: z.strictObject({
      serviceId: id,
      routerId: id,
      address: z.string().min(1).max(1024),
      identityId: id.nullable().default(null),
      cost,
      precedence,
      tags,
    }),
  },
  'service-policies': {
    table: 'service_policies',
    unique: 'name',
    fields: {
      name: { column: 'name', kind: 'string' },
      type: { column: 'type', kind: 'string' },
      semantic: { column: 'semantic', kind: 'string' },
      identityRoles: { column: 'identity_roles', kind: 'roles' },
      serviceRoles: { column: 'service_roles', kind: 'roles' },
      postureCheckRoles: { column: 'posture_check_roles', kind: 'roles' },
      ...common,
    },
    create: z.strictObject({
      name,
      type: z.enum(['Dial', 'Bind']),
      semantic,
      identityRoles: roles,
      serviceRoles: roles,
      postureCheckRoles: roles,
      tags,
    }),
  },
  'edge-router-policies': {
    table: 'edge_router_policies',
    unique: 'name',
    fields: {
      name: { column: 'name', kind: 'string' },
      semantic: { column: 'semantic', kind: 'string' },
      identityRoles: { column: 'identity_roles', kind: 'roles' },
      routerRoles: { column: 'router_roles', kind: 'roles' },
      ...common,
    },
    create: z.strictObject({ name, semantic, identityRoles: roles, routerRoles: roles, tags }),
  },
  'service-edge-router-policies': {
    table: 'service_edge_router_policies',
    unique: 'name',
    fields: {
      name: { column: 'name', kind: 'string' },
      semantic: { column: 'semantic', kind: 'string' },
      serviceRoles: { column: 'service_roles', kind: 'roles' },
      routerRoles: { column: 'router_roles', kind: 'roles' },
      ...common,
    },
    create: z.strictObject({ name, semantic, serviceRoles: roles, routerRoles: roles, tags }),
  },
  'config-types': {
    table: 'config_types',
    unique: 'name',
    fields: {
      name: { column: 'name', kind: 'string' },
      schema: { column: 'schema', kind: 'json' },
      ...common,
    },
    create: z.strictObject({ name, schema: z.record(z.string(), z.unknown()).default({}), tags }),
  },
  configs: {
    table: 'configs',
    unique: 'name',
    fields: {
      name: { column: 'name', kind: 'string' },
      configTypeId: { column: 'config_type_id', kind: 'ref', ref: 'config-types' },
      data: { column: 'data', kind: 'json' },
      ...common,
    },
    create: z.strictObject({
      name,
      configTypeId: id,
      data: z.record(z.string(), z.unknown()).default({}),
      tags,
    }),
  },
  'posture-checks': {
    table: 'posture_checks',
    unique: 'name',
    attributes: 'postureCheck',
    fields: {
      name: { column: 'name', kind: 'string' },
      type: { column: 'type', kind: 'string' },
      roleAttributes: { column: 'role_attributes', kind: 'attributes' },
      params: { column: 'params', kind: 'json' },
      ...common,
    },
    create: z.strictObject({
      name,
      type: z.enum(['OS', 'MAC', 'MFA', 'PROCESS', 'DOMAIN']),
      roleAttributes: attributes,
      params: z.record(z.string(), z.unknown()).default({}),
      tags,
    }),
  },
  admins: {
    table: 'admins',
    unique: 'username',
    fields: {
      username: { column: 'username', kind: 'string' },
      passwordHash: { column: 'password_hash', kind: 'string' },
      ...common,
    },
    create: z.strictObject({
      username: name,
      passwordHash: z.string().regex(/^scrypt\$/, 'must be an scrypt hash made by the node'),
      tags,
    }),
  },
} as const satisfies Record<CollectionName, CollectionSpec>;

export type Collection = CollectionName;

export function isCollection(value: string): value is Collection {
  return (collectionNames as readonly string[]).includes(value);
}

export function spec(collection: Collection): CollectionSpec {
  return collections[collection];
}
