/**
 * The model's collections as the UI shows them: one table from which the list pages, the forms and
 * their validation are generated. Fields, kinds, enum options, bounds, defaults and what sorts come
 * from the API contract (contract/collections.ts); this file adds only the UI's words and choices:
 * labels, help, which fields are list columns, what names an entity and what the search box matches.
 */
import {
  bookkeepingFields as contractBookkeeping,
  collectionFields,
  collectionNames,
  defaultSort,
  isSortable,
  type CollectionName,
  type Field,
  type FieldKind,
} from '../../../contract/index.js';

export type { FieldKind };

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

/** What the UI says about a field: its label and help, and whether the list shows it. */
interface FieldLook {
  readonly label: string;
  readonly help?: string;
  readonly column?: boolean;
}

type Looks<C extends CollectionName> = { readonly [F in keyof (typeof collectionFields)[C]]: FieldLook };

interface CollectionLook<C extends CollectionName> {
  readonly singular: string;
  readonly plural: string;
  readonly searchField: string;
  readonly titleField: string;
  readonly fields: Looks<C>;
}

/** A form starts with the API's default; lists and null start empty, objects as `{}`. */
function initialOf(f: Field): string | number | boolean | undefined {
  const value = f.default;
  if (value === undefined || value === null || Array.isArray(value)) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : (value as string | number | boolean);
}

function describeField(name: string, f: Field, look: FieldLook): FieldDescription {
  const bounded = f.kind === 'string' || f.kind === 'integer' || f.kind === 'password';
  const initial = initialOf(f);
  return {
    name,
    label: look.label,
    kind: f.kind,
    ...(f.options ? { options: f.options } : {}),
    ...(f.ref ? { ref: f.ref } : {}),
    ...(f.nullable ? { optional: true } : {}),
    ...(bounded && f.min !== undefined ? { min: f.min } : {}),
    ...(bounded && f.max !== undefined ? { max: f.max } : {}),
    ...(initial !== undefined ? { initial } : {}),
    ...(look.help ? { help: look.help } : {}),
    ...(isSortable(f.kind) ? { sortable: true } : {}),
    ...(look.column ? { column: true } : {}),
  };
}

const bookkeepingLooks: Readonly<Record<keyof typeof contractBookkeeping, FieldLook>> = {
  id: { label: 'ID' },
  createdAt: { label: 'Created' },
  updatedAt: { label: 'Updated', column: true },
  revision: { label: 'Revision' },
};

/** The fields every entity has besides its own, as the API returns them. */
export const bookkeepingFields: readonly FieldDescription[] = Object.entries(contractBookkeeping).map(
  ([name, f]) => describeField(name, f, bookkeepingLooks[name as keyof typeof contractBookkeeping]),
);

const name: FieldLook = { label: 'Name', column: true };
const tags: FieldLook = { label: 'Tags', help: 'A JSON object of strings, numbers, booleans or null.' };
const roleAttributes: FieldLook = {
  label: 'Role attributes',
  column: true,
  help: 'Names that policies select with #name; separate with commas.',
};
const shown = (label: string): FieldLook => ({ label, column: true });
const roles = (label: string, column = true): FieldLook => ({
  label,
  column,
  help: '#attribute, @id or #all; separate with commas.',
});
const byName = { searchField: 'name', titleField: 'name' } as const;

const looks: { readonly [C in CollectionName]: CollectionLook<C> } = {
  identities: {
    singular: 'Identity',
    plural: 'Identities',
    ...byName,
    fields: {
      name,
      type: shown('Type'),
      roleAttributes,
      defaultHostingPrecedence: { label: 'Default hosting precedence' },
      defaultHostingCost: { label: 'Default hosting cost' },
      tags,
    },
  },
  services: {
    singular: 'Service',
    plural: 'Services',
    ...byName,
    fields: {
      name,
      roleAttributes,
      configs: { label: 'Configs', help: 'Config ids, separated by commas.' },
      encryptionRequired: shown('Encryption required'),
      terminatorStrategy: shown('Terminator strategy'),
      tags,
    },
  },
  routers: {
    singular: 'Router',
    plural: 'Routers',
    ...byName,
    fields: {
      name,
      roleAttributes,
      cost: shown('Cost'),
      noTraversal: { label: 'No traversal' },
      disabled: shown('Disabled'),
      tunnelerEnabled: shown('Tunneler enabled'),
      tags,
    },
  },
  terminators: {
    singular: 'Terminator',
    plural: 'Terminators',
    searchField: 'address',
    titleField: 'address',
    fields: {
      serviceId: shown('Service'),
      routerId: shown('Router'),
      address: shown('Address'),
      identityId: { label: 'Identity' },
      cost: shown('Cost'),
      precedence: shown('Precedence'),
      tags,
    },
  },
  'service-policies': {
    singular: 'Service policy',
    plural: 'Service policies',
    ...byName,
    fields: {
      name,
      type: shown('Type'),
      semantic: shown('Semantic'),
      identityRoles: roles('Identity roles'),
      serviceRoles: roles('Service roles'),
      postureCheckRoles: roles('Posture check roles', false),
      tags,
    },
  },
  'edge-router-policies': {
    singular: 'Edge router policy',
    plural: 'Edge router policies',
    ...byName,
    fields: {
      name,
      semantic: shown('Semantic'),
      identityRoles: roles('Identity roles'),
      routerRoles: roles('Router roles'),
      tags,
    },
  },
  'service-edge-router-policies': {
    singular: 'Service edge router policy',
    plural: 'Service edge router policies',
    ...byName,
    fields: {
      name,
      semantic: shown('Semantic'),
      serviceRoles: roles('Service roles'),
      routerRoles: roles('Router roles'),
      tags,
    },
  },
  configs: {
    singular: 'Config',
    plural: 'Configs',
    ...byName,
    fields: {
      name,
      configTypeId: shown('Config type'),
      data: { label: 'Data', help: 'A JSON object.' },
      tags,
    },
  },
  'config-types': {
    singular: 'Config type',
    plural: 'Config types',
    ...byName,
    fields: { name, schema: { label: 'Schema', help: 'A JSON Schema object.' }, tags },
  },
  'posture-checks': {
    singular: 'Posture check',
    plural: 'Posture checks',
    ...byName,
    fields: {
      name,
      type: shown('Type'),
      roleAttributes,
      params: { label: 'Parameters', help: 'A JSON object.' },
      tags,
    },
  },
  admins: {
    singular: 'Admin',
    plural: 'Admins',
    searchField: 'username',
    titleField: 'username',
    fields: {
      username: shown('Username'),
      password: {
        label: 'Password',
        help: 'The node stores only a hash. Leave empty when editing to keep the current one.',
      },
      role: {
        label: 'Role',
        column: true,
        help: 'admin may change anything; readonly may look at everything but the backup and enrollment tokens, and change its own password.',
      },
      tags,
    },
  },
};

function describeFrom(c: CollectionName): CollectionDescription {
  const look = looks[c] as CollectionLook<CollectionName>;
  const fieldLooks = look.fields as Readonly<Record<string, FieldLook>>;
  return {
    name: c,
    singular: look.singular,
    plural: look.plural,
    searchField: look.searchField,
    titleField: look.titleField,
    defaultSort: defaultSort[c],
    fields: Object.entries(collectionFields[c] as Readonly<Record<string, Field>>).map(([field, f]) =>
      describeField(field, f, fieldLooks[field] ?? { label: field }),
    ),
  };
}

export const collectionDescriptions = Object.fromEntries(
  collectionNames.map((c) => [c, describeFrom(c)]),
) as Readonly<Record<CollectionName, CollectionDescription>>;

/** The collections in the order the navigation lists them: the contract's order. */
export const collectionOrder: readonly CollectionName[] = collectionNames;

export function describeCollection(collection: CollectionName): CollectionDescription {
  return collectionDescriptions[collection];
}

/** The columns of a collection's list: its own marked fields, then the bookkeeping ones marked. */
export function listColumns(collection: CollectionName): FieldDescription[] {
  const own = describeCollection(collection).fields.filter((f) => f.column);
  return [...own, ...bookkeepingFields.filter((f) => f.column)];
}

/** An example for a collection's filter box, in the API's filter language, with its own fields. */
export function filterExample(collection: CollectionName): string {
  const description = describeCollection(collection);
  const has = (name: string) => description.fields.some((f) => f.name === name);
  const first =
    has('type') && collection === 'identities' ? 'type = "User"' : `${description.searchField} contains "a"`;
  return has('roleAttributes') ? `${first} and anyOf(roleAttributes) = "ops"` : first;
}

/** A display name for an entity: its title field, else its id. */
export function entityTitle(collection: CollectionName, entity: { readonly [k: string]: unknown }): string {
  const value = entity[describeCollection(collection).titleField];
  return typeof value === 'string' && value !== '' ? value : String(entity.id ?? '');
}
