/**
 * The model's collections: for each, its table, its fields (API name → column and kind) and the
 * zod schema a create command must satisfy. The fields, kinds and create schemas come from the
 * API contract (contract/collections.ts); this file adds only what is the model's own: tables,
 * columns, uniqueness, role-attribute types, and the admin's password hash in place of its password.
 * Commands, apply and queries all read this one table.
 */
import { z } from 'zod';
import {
  collectionFields,
  collectionNames,
  applySchema,
  type CollectionName,
  type FieldKind,
  type FieldTable,
} from '../../contract/collections.js';
import type { RoleEntityType } from './roles.js';

export { collectionNames, type CollectionName, type FieldKind };

export interface FieldSpec {
  readonly column: string;
  readonly kind: FieldKind;
  /** For `ref` and `refs`: the collection the ids must exist in. */
  readonly ref?: CollectionName;
  readonly nullable?: boolean;
}

export interface CollectionSpec {
  readonly table: string;
  /** The column that must be unique across the collection (reported as NAME_TAKEN). */
  readonly unique?: string;
  /** The entity type whose role attributes this collection carries, if any. */
  readonly attributes?: RoleEntityType;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** What a create command must hold (after the node has turned secrets into hashes). */
  readonly create: z.ZodObject;
}

/** An API field name's column: `roleAttributes` → `role_attributes`. */
export function columnOf(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** The model's columns for contract fields; write-only fields (the password) have none. */
export function fieldSpecs(fields: FieldTable): Record<string, FieldSpec> {
  const specs: Record<string, FieldSpec> = {};
  for (const [field, f] of Object.entries(fields)) {
    if (f.kind === 'password') continue;
    specs[field] = {
      column: columnOf(field),
      kind: f.kind,
      ...(f.ref ? { ref: f.ref } : {}),
      ...(f.nullable ? { nullable: true } : {}),
    };
  }
  return specs;
}

/** What the model adds to the contract: uniqueness and role attributes. */
const modelRules: Readonly<Record<CollectionName, { unique?: string; attributes?: RoleEntityType }>> = {
  identities: { unique: 'name', attributes: 'identity' },
  services: { unique: 'name', attributes: 'service' },
  routers: { unique: 'name', attributes: 'router' },
  terminators: {},
  'service-policies': { unique: 'name' },
  'edge-router-policies': { unique: 'name' },
  'service-edge-router-policies': { unique: 'name' },
  configs: { unique: 'name' },
  'config-types': { unique: 'name' },
  'posture-checks': { unique: 'name', attributes: 'postureCheck' },
  admins: { unique: 'username' },
};

/** The node hashes an admin's password before proposing: the model holds only the hash. */
const passwordHash = z.string().regex(/^scrypt\$/, 'must be an scrypt hash made by the node');

function collectionSpec(c: CollectionName): CollectionSpec {
  const fields = fieldSpecs(collectionFields[c]);
  let create = applySchema(c);
  if (c === 'admins') {
    fields.passwordHash = { column: 'password_hash', kind: 'string' };
    create = create.omit({ password: true }).extend({ passwordHash });
  }
  return { table: c.replaceAll('-', '_'), ...modelRules[c], fields, create };
}

export const collections = Object.fromEntries(collectionNames.map((c) => [c, collectionSpec(c)])) as Readonly<
  Record<CollectionName, CollectionSpec>
>;

export type Collection = CollectionName;

export function isCollection(value: string): value is Collection {
  return (collectionNames as readonly string[]).includes(value);
}

export function spec(collection: Collection): CollectionSpec {
  return collections[collection];
}
