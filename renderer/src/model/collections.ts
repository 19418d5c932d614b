/**
 * The model's collections as the UI shows them: one table from which the list pages, the forms and
 * their validation are generated. The fields are copied from core/model/entities.ts (the renderer
 * must not import core/); test/unit/renderer/collections.test.ts keeps the two in step.
 */
import type { CollectionName } from '../api/types.js';

export type FieldKind =
  /** One line of text. */
  | 'string'
  /** One of `options`. */
  | 'enum'
  | 'int'
  | 'bool'
  /** A JSON object, edited as text. */
  | 'json'
  /** A role list: `#attribute`, `@id`, `#all`. */
  | 'roles'
  /** Role attributes this entity carries (plain names, no `#`). */
  | 'attributes'
  /** The id of an entity of `ref`. */
  | 'ref'
  /** Ids of entities of `ref`. */
  | 'refs'
  /** Write-only: sent on create (and on edit when filled in), never shown. */
  | 'password';

export interface FieldDescription {
  readonly name: string;
  readonly label: string;
  readonly kind: FieldKind;
  readonly options?: readonly string[];
  readonly ref?: CollectionName;
  /** Absent from a create request unless filled in; `ref` fields send null when empty. */
  readonly optional?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** The value a new entity's form starts with (the API's default). */
  readonly initial?: string | number | boolean;
  readonly help?: string;
  /** Whether the list may sort on it (the API sorts on scalar columns only). */
  readonly sortable?: boolean;
  /** Shown as a column of the list. */
  readonly column?: boolean;
}

export interface CollectionDescription {
  readonly name: CollectionName;
  readonly singular: string;
  readonly plural: string;
  /** The field the search box matches with `contains`. */
  readonly searchField: string;
  /** The field that names an entity in links, confirmations and pickers. */
  readonly titleField: string;
  readonly defaultSort: string;
  readonly fields: readonly FieldDescription[];
}

/** The fields every entity has besides its own, as the API returns them. */
export const bookkeepingFields: readonly FieldDescription[] = [
  { name: 'id', label: 'ID', kind: 'string', sortable: true },
  { name: 'createdAt', label: 'Created', kind: 'string', sortable: true },
  { name: 'updatedAt', label: 'Updated', kind: 'string', sortable: true, column: true },
  { name: 'revision', label: 'Revision', kind: 'int', sortable: true },
];

const name: FieldDescription = {
  name: 'name',
  label: 'Name',
  kind: 'string',
  min: 1,
  max: 255,
  sortable: true,
  column: true,
};
const tags: FieldDescription = {
  name: 'tags',
  label: 'Tags',
  kind: 'json',
  initial: '{}',
  help: 'A JSON object of strings, numbers, booleans or null.',
};
const roleAttributes: FieldDescription = {
  name: 'roleAttributes',
  label: 'Role attributes',
  kind: 'attributes',
  column: true,
  help: 'Names that policies select with #name; separate with commas.',
};
const semantic: FieldDescription = {
  name: 'semantic',
  label: 'Semantic',
  kind: 'enum',
  options: ['AllOf', 'AnyOf'],
  initial: 'AllOf',
  sortable: true,
  column: true,
};
const cost = (label = 'Cost'): FieldDescription => ({
  name: 'cost',
  label,
  kind: 'int',
  min: 0,
  max: 65535,
  initial: 0,
  sortable: true,
  column: true,
});
const precedence: FieldDescription = {
  name: 'precedence',
  label: 'Precedence',
  kind: 'enum',
  options: ['default', 'required', 'failed'],
  initial: 'default',
  sortable: true,
  column: true,
};
const roles = (field: string, label: string): FieldDescription => ({
  name: field,
  label,
  kind: 'roles',
  column: true,
  help: '#attribute, @id or #all; separate with commas.',
});

export const collectionDescriptions: Readonly<Record<CollectionName, CollectionDescription>> = {
  identities: {
    name: 'identities',
    singular: 'Identity',
    plural: 'Identities',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      {
        name: 'type',
        label: 'Type',
        kind: 'enum',
        options: ['Device', 'User', 'Service', 'Router'],
        initial: 'Device',
        sortable: true,
        column: true,
      },
      roleAttributes,
      {
        name: 'defaultHostingPrecedence',
        label: 'Default hosting precedence',
        kind: 'enum',
        options: ['default', 'required', 'failed'],
        initial: 'default',
        sortable: true,
      },
      {
        name: 'defaultHostingCost',
        label: 'Default hosting cost',
        kind: 'int',
        min: 0,
        max: 65535,
        initial: 0,
        sortable: true,
      },
      tags,
    ],
  },
  services: {
    name: 'services',
    singular: 'Service',
    plural: 'Services',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      roleAttributes,
      {
        name: 'configs',
        label: 'Configs',
        kind: 'refs',
        ref: 'configs',
        help: 'Config ids, separated by commas.',
      },
      {
        name: 'encryptionRequired',
        label: 'Encryption required',
        kind: 'bool',
        initial: true,
        sortable: true,
        column: true,
      },
      {
        name: 'terminatorStrategy',
        label: 'Terminator strategy',
        kind: 'enum',
        options: ['smartrouting', 'weighted', 'random', 'ha'],
        initial: 'smartrouting',
        sortable: true,
        column: true,
      },
      tags,
    ],
  },
  routers: {
    name: 'routers',
    singular: 'Router',
    plural: 'Routers',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      roleAttributes,
      cost(),
      { name: 'noTraversal', label: 'No traversal', kind: 'bool', initial: false, sortable: true },
      { name: 'disabled', label: 'Disabled', kind: 'bool', initial: false, sortable: true, column: true },
      {
        name: 'tunnelerEnabled',
        label: 'Tunneler enabled',
        kind: 'bool',
        initial: false,
        sortable: true,
        column: true,
      },
      tags,
    ],
  },
  terminators: {
    name: 'terminators',
    singular: 'Terminator',
    plural: 'Terminators',
    searchField: 'address',
    titleField: 'address',
    defaultSort: 'createdAt',
    fields: [
      { name: 'serviceId', label: 'Service', kind: 'ref', ref: 'services', sortable: true, column: true },
      { name: 'routerId', label: 'Router', kind: 'ref', ref: 'routers', sortable: true, column: true },
      { name: 'address', label: 'Address', kind: 'string', min: 1, max: 1024, sortable: true, column: true },
      {
        name: 'identityId',
        label: 'Identity',
        kind: 'ref',
        ref: 'identities',
        optional: true,
        sortable: true,
      },
      cost(),
      precedence,
      tags,
    ],
  },
  'service-policies': {
    name: 'service-policies',
    singular: 'Service policy',
    plural: 'Service policies',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      { name: 'type', label: 'Type', kind: 'enum', options: ['Dial', 'Bind'], sortable: true, column: true },
      semantic,
      roles('identityRoles', 'Identity roles'),
      roles('serviceRoles', 'Service roles'),
      { ...roles('postureCheckRoles', 'Posture check roles'), column: false },
      tags,
    ],
  },
  'edge-router-policies': {
    name: 'edge-router-policies',
    singular: 'Edge router policy',
    plural: 'Edge router policies',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      semantic,
      roles('identityRoles', 'Identity roles'),
      roles('routerRoles', 'Router roles'),
      tags,
    ],
  },
  'service-edge-router-policies': {
    name: 'service-edge-router-policies',
    singular: 'Service edge router policy',
    plural: 'Service edge router policies',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      semantic,
      roles('serviceRoles', 'Service roles'),
      roles('routerRoles', 'Router roles'),
      tags,
    ],
  },
  configs: {
    name: 'configs',
    singular: 'Config',
    plural: 'Configs',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      {
        name: 'configTypeId',
        label: 'Config type',
        kind: 'ref',
        ref: 'config-types',
        sortable: true,
        column: true,
      },
      { name: 'data', label: 'Data', kind: 'json', initial: '{}', help: 'A JSON object.' },
      tags,
    ],
  },
  'config-types': {
    name: 'config-types',
    singular: 'Config type',
    plural: 'Config types',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      { name: 'schema', label: 'Schema', kind: 'json', initial: '{}', help: 'A JSON Schema object.' },
      tags,
    ],
  },
  'posture-checks': {
    name: 'posture-checks',
    singular: 'Posture check',
    plural: 'Posture checks',
    searchField: 'name',
    titleField: 'name',
    defaultSort: 'name',
    fields: [
      name,
      {
        name: 'type',
        label: 'Type',
        kind: 'enum',
        options: ['OS', 'MAC', 'MFA', 'PROCESS', 'DOMAIN'],
        sortable: true,
        column: true,
      },
      roleAttributes,
      { name: 'params', label: 'Parameters', kind: 'json', initial: '{}', help: 'A JSON object.' },
      tags,
    ],
  },
  admins: {
    name: 'admins',
    singular: 'Admin',
    plural: 'Admins',
    searchField: 'username',
    titleField: 'username',
    defaultSort: 'username',
    fields: [
      { ...name, name: 'username', label: 'Username' },
      {
        name: 'password',
        label: 'Password',
        kind: 'password',
        min: 8,
        max: 1024,
        help: 'The node stores only a hash. Leave empty when editing to keep the current one.',
      },
      tags,
    ],
  },
};

/** The collections in the order the navigation lists them. */
export const collectionOrder: readonly CollectionName[] = [
  'identities',
  'services',
  'routers',
  'terminators',
  'service-policies',
  'edge-router-policies',
  'service-edge-router-policies',
  'configs',
  'config-types',
  'posture-checks',
  'admins',
];

export function describeCollection(collection: CollectionName): CollectionDescription {
  return collectionDescriptions[collection];
}

/** The columns of a collection's list: its own marked fields, then the bookkeeping ones marked. */
export function listColumns(collection: CollectionName): FieldDescription[] {
  const own = describeCollection(collection).fields.filter((f) => f.column);
  return [...own, ...bookkeepingFields.filter((f) => f.column)];
}

/** A display name for an entity: its title field, else its id. */
export function entityTitle(collection: CollectionName, entity: { readonly [k: string]: unknown }): string {
  const value = entity[describeCollection(collection).titleField];
  return typeof value === 'string' && value !== '' ? value : String(entity.id ?? '');
}
