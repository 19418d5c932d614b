/**
 * Reads of the model for the REST list and get routes: each collection's API fields mapped to its
 * table's columns, paging, sorting and the filter language. Reads run against this node's
 * database only: they never wait for other nodes.
 */
import type { SqlValue } from 'sql.js';
import type { ModelDatabase } from './database.js';
import { defaultSort, entityFields, isSortable } from '../../contract/collections.js';
import { jsonDepthProblem } from '../../contract/json-bounds.js';
import { MAX_LIMIT } from '../../contract/requests.js';
import { collectionNames, fieldSpecs, spec, type Collection } from './entities.js';
import { compileFilter, fieldType, parseFilter, type FieldSpec } from './filter/index.js';
import type { RoleEntityType } from './roles.js';

export const DEFAULT_LIMIT = 100;
export { MAX_LIMIT };

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One entity as the API shows it: API field names, JSON columns parsed, booleans as booleans. */
export type EntityRow = Record<string, JsonValue>;

export interface QueryField extends FieldSpec {
  /** Whether `sort` may name it: scalar columns only (a top-N sort over them is cheap). */
  readonly sortable?: boolean;
}

export interface QueryCollectionSpec {
  readonly table: string;
  /** entity_attributes.entity_type of this collection's role attributes, if it has them. */
  readonly attributeEntityType?: RoleEntityType;
  /** Every field the API returns, in output order. */
  readonly fields: Readonly<Record<string, QueryField>>;
  /** The order of a list when `sort` is not given (before the tiebreak on id). */
  readonly defaultSort: string;
}

/**
 * What a list or get shows of each collection, by REST name: the fields of the contract's answer
 * (contract/collections.ts entityFields), with their columns and whether they sort. Admins are
 * here for the admin routes; their password hash is not, so no query can return it or filter on it.
 */
export const queryCollections = Object.fromEntries(
  collectionNames.map((c): [Collection, QueryCollectionSpec] => {
    const fields: Record<string, QueryField> = {};
    for (const [field, f] of Object.entries(fieldSpecs(entityFields(c)))) {
      fields[field] = { ...f, ...(isSortable(f.kind) ? { sortable: true } : {}) };
    }
    const { table, attributes } = spec(c);
    return [
      c,
      {
        table,
        ...(attributes ? { attributeEntityType: attributes } : {}),
        fields,
        defaultSort: defaultSort[c],
      },
    ];
  }),
) as Readonly<Record<Collection, QueryCollectionSpec>>;

export type QueryErrorCode = 'UNKNOWN_COLLECTION' | 'INVALID_SORT' | 'INVALID_PAGING';

/** A list request this module cannot serve; `parameter` names the request parameter at fault. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly code: QueryErrorCode,
    message: string,
    readonly parameter: 'collection' | 'sort' | 'limit' | 'offset',
    /** The field a sort problem is about. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface ListOptions {
  /** Rows to return: default 100, at most 1000; 0 returns only the total. */
  readonly limit?: number;
  readonly offset?: number;
  /** A filter in the filter language (see filter.ts); empty or blank means none. */
  readonly filter?: string;
  /** Comma-separated fields, `-` before a field for descending: `name`, `-createdAt`, `name,-cost`. */
  readonly sort?: string;
}

export interface ListResult {
  readonly rows: EntityRow[];
  /** Rows matching the filter, regardless of paging. */
  readonly total: number;
  /** The limit and offset applied, defaults filled in. */
  readonly limit: number;
  readonly offset: number;
}

const ALIAS = 'e';

function collectionSpec(collection: string): QueryCollectionSpec {
  const spec = Object.hasOwn(queryCollections, collection)
    ? queryCollections[collection as Collection]
    : undefined;
  if (!spec) throw new QueryError('UNKNOWN_COLLECTION', `unknown collection ${collection}`, 'collection');
  return spec;
}

const selectLists = new Map<QueryCollectionSpec, string>();

/** `e.col AS apiName, ...` for every field of the collection. */
function selectList(spec: QueryCollectionSpec): string {
  let columns = selectLists.get(spec);
  if (columns === undefined) {
    columns = Object.entries(spec.fields)
      .map(([name, field]) => `${ALIAS}.${field.column} AS ${name}`)
      .join(', ');
    selectLists.set(spec, columns);
  }
  return columns;
}

/** Where a JSON field stored before the bounds cannot be answered, this says so in its place. */
export const UNREADABLE_JSON_KEY = 'meshdesk.unreadable';

/**
 * A JSON field as answers may carry it. One stored before the contract bounded such fields (a
 * config nested 1,500 levels deep) would overflow every answer that holds it, on every node: it
 * is answered as an object that says why, so that the rest of the list reads and an admin can
 * replace it.
 */
function boundedJson(text: string): JsonValue {
  const value = JSON.parse(text) as JsonValue;
  const problem = jsonDepthProblem(value);
  return problem ? { [UNREADABLE_JSON_KEY]: `the stored value ${problem}: replace it` } : value;
}

function decodeRow(spec: QueryCollectionSpec, raw: Record<string, SqlValue>): EntityRow {
  const row: EntityRow = {};
  for (const [name, field] of Object.entries(spec.fields)) {
    const value = raw[name] ?? null;
    if (value === null) {
      row[name] = null;
    } else if (value instanceof Uint8Array) {
      // No column of the schema holds blobs; show one rather than fail the whole list.
      row[name] = Buffer.from(value).toString('base64');
    } else if (field.kind === 'boolean') {
      row[name] = value !== 0;
    } else if (field.kind === 'json') {
      row[name] = boundedJson(String(value));
    } else if (fieldType(field) === 'attributes' || fieldType(field) === 'list') {
      row[name] = JSON.parse(String(value)) as JsonValue;
    } else {
      row[name] = value;
    }
  }
  return row;
}

function checkCount(
  value: number | undefined,
  fallback: number,
  max: number,
  parameter: 'limit' | 'offset',
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? 'a whole number, 0 or more' : `a whole number from 0 to ${max}`;
    throw new QueryError('INVALID_PAGING', `${parameter} must be ${range}; got ${value}`, parameter);
  }
  return value;
}

/** `ORDER BY` terms for `sort`, ending with the tiebreak on id so that paging is stable. */
function orderBy(spec: QueryCollectionSpec, sort: string): string {
  const terms: string[] = [];
  const seen = new Set<string>();
  const sortable = () =>
    Object.keys(spec.fields)
      .filter((n) => spec.fields[n]?.sortable)
      .join(', ');
  for (const item of sort.split(',')) {
    const trimmed = item.trim();
    const descending = trimmed.startsWith('-');
    const name = trimmed.replace(/^[-+]/, '');
    if (name === '') throw new QueryError('INVALID_SORT', `sort has an empty field in "${sort}"`, 'sort');
    const field = Object.hasOwn(spec.fields, name) ? spec.fields[name] : undefined;
    if (!field) {
      throw new QueryError(
        'INVALID_SORT',
        `unknown sort field ${name}; sortable: ${sortable()}`,
        'sort',
        name,
      );
    }
    if (!field.sortable) {
      throw new QueryError('INVALID_SORT', `cannot sort on ${name}; sortable: ${sortable()}`, 'sort', name);
    }
    if (seen.has(name)) throw new QueryError('INVALID_SORT', `sort names ${name} twice`, 'sort', name);
    seen.add(name);
    terms.push(`${ALIAS}.${field.column} ${descending ? 'DESC' : 'ASC'}`);
  }
  if (!seen.has('id')) terms.push(`${ALIAS}.id ASC`);
  return terms.join(', ');
}

/**
 * One page of a collection, filtered and sorted, with the total number of matching rows. Throws
 * a FilterError for a bad filter and a QueryError for a bad collection, sort, limit or offset.
 */
export function listEntities(
  db: ModelDatabase,
  collection: Collection,
  options: ListOptions = {},
): ListResult {
  const spec = collectionSpec(collection);
  const limit = checkCount(options.limit, DEFAULT_LIMIT, MAX_LIMIT, 'limit');
  const offset = checkCount(options.offset, 0, Number.MAX_SAFE_INTEGER, 'offset');
  const order = orderBy(spec, options.sort?.trim() ? options.sort : spec.defaultSort);

  let where = '';
  let params: SqlValue[] = [];
  if (options.filter !== undefined && options.filter.trim() !== '') {
    const compiled = compileFilter(parseFilter(options.filter), {
      fields: spec.fields,
      alias: ALIAS,
      ...(spec.attributeEntityType ? { attributeEntityType: spec.attributeEntityType } : {}),
    });
    where = ` WHERE ${compiled.where}`;
    params = compiled.params;
  }

  const from = `FROM ${spec.table} ${ALIAS}${where}`;
  const total = Number(db.allOnce(`SELECT count(*) AS total ${from}`, params)[0]?.total ?? 0);
  const rows =
    limit === 0 || offset >= total
      ? []
      : db
          .allOnce(`SELECT ${selectList(spec)} ${from} ORDER BY ${order} LIMIT ? OFFSET ?`, [
            ...params,
            limit,
            offset,
          ])
          .map((raw) => decodeRow(spec, raw));
  return { rows, total, limit, offset };
}

/** One entity by id, or undefined. Its SQL is one text per collection: the cached statement serves. */
export function getEntity(db: ModelDatabase, collection: Collection, id: string): EntityRow | undefined {
  const spec = collectionSpec(collection);
  const raw = db.all(`SELECT ${selectList(spec)} FROM ${spec.table} ${ALIAS} WHERE ${ALIAS}.id = ?`, [id])[0];
  return raw && decodeRow(spec, raw);
}
