/**
 * How much validating one value against an admin-supplied JSON Schema can cost, decided from the
 * schema alone, so that a config type whose validation could hang every node (apply runs it, the
 * same on every node, and again at every replay) is refused when it is written.
 *
 * JSON Schema is not linear: `anyOf` over `$ref`s that `anyOf` again evaluates one value 2^k
 * times, and a `$ref` cycle that never descends into the value never ends. The walk below counts,
 * for each depth of the value (at most JSON_FIELD_MAX_DEPTH), how many schema objects can be
 * evaluated against one value at that depth — following in-place applicators (`allOf`, `anyOf`,
 * `$ref`, `if`…) on the same value and descending ones (`properties`, `items`…) one level down —
 * each weighed by the work its own keywords do (an `enum` of 1000 values compares 1000 times). A
 * value of N nodes then costs at most N times the largest of those counts. Work per keyword that
 * is not linear in Ajv (`uniqueItems`) is replaced where the validator is built (apply.ts).
 */
import { JSON_FIELD_MAX_DEPTH } from '../../contract/index.js';

/** The most weighed schema evaluations one value may cost: generous for real config types. */
export const SCHEMA_WORK_BUDGET = 4096;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaObject = { [key: string]: Json };

/** Keywords whose subschemas apply to the same value. */
const IN_PLACE_ONE = ['not', 'if', 'then', 'else'] as const;
const IN_PLACE_LIST = ['allOf', 'anyOf', 'oneOf'] as const;
/** Keywords whose subschemas apply to the value's members, one level down. */
const DESCENDING_ONE = [
  'additionalProperties',
  'propertyNames',
  'additionalItems',
  'contains',
  'unevaluatedItems',
  'unevaluatedProperties',
] as const;
const DESCENDING_MAP = ['properties', 'patternProperties'] as const;
/** References this walk (and the node's validator, which loads nothing) cannot follow. */
const UNSUPPORTED_REFS = ['$dynamicRef', '$recursiveRef'] as const;

const isObject = (value: Json | undefined): value is SchemaObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const saturate = (n: number): number => Math.min(n, Number.MAX_SAFE_INTEGER);

interface Edges {
  readonly inPlace: SchemaObject[];
  readonly descending: SchemaObject[];
}

/** Why validating against `schema` could cost too much, or undefined when it is bounded. */
export function schemaCostProblem(schema: unknown): string | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (!isObject(schema as Json)) return 'must be a JSON Schema object';
  const root = schema as SchemaObject;
  const edges = new Map<SchemaObject, Edges>();
  let problem: string | undefined;

  const resolve = (ref: string): SchemaObject | boolean | undefined => {
    if (ref !== '#' && !ref.startsWith('#/')) return undefined;
    let node: Json = root;
    for (const raw of ref
      .slice(2)
      .split('/')
      .filter((part, i) => part !== '' || i > 0)) {
      const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      if (Array.isArray(node)) node = node[Number(part)] as Json;
      else if (isObject(node)) node = node[part] as Json;
      else return undefined;
    }
    return typeof node === 'boolean' ? node : isObject(node) ? node : undefined;
  };

  const edgesOf = (node: SchemaObject): Edges => {
    const known = edges.get(node);
    if (known) return known;
    const inPlace: SchemaObject[] = [];
    const descending: SchemaObject[] = [];
    const add = (list: SchemaObject[], value: Json | undefined) => {
      if (isObject(value)) list.push(value);
    };
    for (const k of IN_PLACE_ONE) add(inPlace, node[k]);
    for (const k of IN_PLACE_LIST) {
      const list = node[k];
      if (Array.isArray(list)) for (const s of list) add(inPlace, s);
    }
    for (const k of ['dependentSchemas', 'dependencies'] as const) {
      const map = node[k];
      if (isObject(map)) for (const s of Object.values(map)) add(inPlace, s);
    }
    for (const k of DESCENDING_ONE) add(descending, node[k]);
    for (const k of DESCENDING_MAP) {
      const map = node[k];
      if (isObject(map)) for (const s of Object.values(map)) add(descending, s);
    }
    const items = node.items;
    if (Array.isArray(items)) for (const s of items) add(descending, s);
    else add(descending, items);
    const prefix = node.prefixItems;
    if (Array.isArray(prefix)) for (const s of prefix) add(descending, s);
    for (const k of UNSUPPORTED_REFS) {
      if (k in node) problem ??= `${k} is not supported`;
    }
    if (typeof node.$ref === 'string') {
      const target = resolve(node.$ref);
      if (target === undefined) {
        problem ??= `$ref "${node.$ref.slice(0, 200)}" is not a reference into this schema (#/…)`;
      } else if (target !== true && target !== false) {
        inPlace.push(target);
      }
    }
    const found = { inPlace, descending };
    edges.set(node, found);
    return found;
  };

  // The in-place closure of each schema object, with multiplicity (the number of paths), as the
  // weighed work of evaluating that object on one value; a cycle in it never ends.
  const closure = new Map<SchemaObject, { work: number; members: Map<SchemaObject, number> }>();
  const visiting = new Set<SchemaObject>();
  const closureOf = (node: SchemaObject): { work: number; members: Map<SchemaObject, number> } => {
    const known = closure.get(node);
    if (known) return known;
    if (visiting.has(node)) {
      problem ??= 'a $ref cycle returns to the same value without descending into it: it never ends';
      return { work: 0, members: new Map() };
    }
    visiting.add(node);
    const members = new Map<SchemaObject, number>([[node, 1]]);
    let work = ownWork(node);
    for (const child of edgesOf(node).inPlace) {
      const inner = closureOf(child);
      work = saturate(work + inner.work);
      for (const [member, paths] of inner.members)
        members.set(member, saturate((members.get(member) ?? 0) + paths));
    }
    visiting.delete(node);
    const found = { work, members };
    closure.set(node, found);
    return found;
  };

  // Level by level down the value: how many paths reach each schema object, and their work.
  let level = new Map<SchemaObject, number>([[root, 1]]);
  for (let depth = 1; depth <= JSON_FIELD_MAX_DEPTH && level.size > 0; depth++) {
    let work = 0;
    const next = new Map<SchemaObject, number>();
    for (const [node, paths] of level) {
      const { work: w, members } = closureOf(node);
      work = saturate(work + paths * w);
      for (const [member, memberPaths] of members) {
        for (const child of edgesOf(member).descending)
          next.set(child, saturate((next.get(child) ?? 0) + paths * memberPaths));
      }
    }
    if (problem) return problem;
    if (work > SCHEMA_WORK_BUDGET) {
      return `validating one value at depth ${depth} could take ${work >= Number.MAX_SAFE_INTEGER ? 'unbounded' : work} schema steps, more than ${SCHEMA_WORK_BUDGET} (nested anyOf/oneOf/allOf over $refs multiply)`;
    }
    level = next;
  }
  return problem;
}

/** The work of an object's own keywords on one value: 1, plus what grows with the schema. */
function ownWork(node: SchemaObject): number {
  let work = 1;
  const length = (value: Json | undefined): number =>
    Array.isArray(value) ? value.length : isObject(value) ? Object.keys(value).length : 0;
  work += length(node.enum);
  work += length(node.required);
  work += length(node.properties);
  work += length(node.patternProperties);
  if (isObject(node.dependencies)) {
    for (const value of Object.values(node.dependencies)) work += length(value) + 1;
  }
  if (isObject(node.dependentRequired)) {
    for (const value of Object.values(node.dependentRequired)) work += length(value) + 1;
  }
  return work;
}
