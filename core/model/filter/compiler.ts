/**
 * A parsed filter to parameterised SQL for one entity table. Field names and value types are
 * checked against the table's field map; values travel only as parameters, and only column names
 * from the map (never text from the filter) reach the SQL.
 */
import type { SqlValue } from 'sql.js';
import type { FieldKind } from '../../../contract/collections.js';
import { FilterError } from './error.js';
import type { CompareOp, FieldRef, FilterNode, Literal, LiteralValue } from './tree.js';

/** How a field is stored, by its kind (contract/collections.ts), as the filter language sees it. */
export type FieldType = 'string' | 'integer' | 'boolean' | 'datetime' | 'attributes' | 'list' | 'json';

export interface FieldSpec {
  /** The column in the entity's table; a SQL identifier from our own code, never from a filter. */
  readonly column: string;
  readonly kind: FieldKind;
  /** True if the column may hold NULL. */
  readonly nullable?: boolean;
}

/**
 * - `string`, `integer`, `boolean` (0/1), `datetime` (ISO 8601 text in UTC): a scalar column
 *   (enums and references are text).
 * - `attributes`: an entity's role attributes (a JSON array), filtered through entity_attributes.
 * - `list`: a JSON array of strings in a TEXT column (roles, references), searched with json_each.
 * - `json`: a JSON object, returned but not filterable.
 */
export function fieldType(spec: FieldSpec): FieldType {
  switch (spec.kind) {
    case 'enum':
    case 'ref':
    case 'password':
      return 'string';
    case 'roles':
    case 'refs':
      return 'list';
    default:
      return spec.kind;
  }
}

export interface CompileTarget {
  /** Filterable fields by API name. */
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** The alias of the entity's table in the query that the WHERE clause goes into. */
  readonly alias: string;
  /** entity_attributes.entity_type for `attributes` fields. */
  readonly attributeEntityType?: string;
}

export interface CompiledFilter {
  readonly where: string;
  readonly params: SqlValue[];
}

const DATETIME = /^(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?Z?)?$/;

/**
 * A UTC date or date-time in the form timestamps are stored in (`Date.toISOString()`), so that
 * text comparison in SQL is time comparison; undefined if it is not a real UTC date-time.
 */
function normaliseDateTime(text: string): string | undefined {
  const match = DATETIME.exec(text);
  if (!match) return undefined;
  const date = new Date(text.includes('T') && !text.endsWith('Z') ? `${text}Z` : text);
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString();
  // Date rolls 2024-02-30 over into March; that is a mistake in the filter, not a date.
  return iso.startsWith(match[1] ?? '') ? iso : undefined;
}

const ORDERED_OPS: ReadonlySet<CompareOp> = new Set(['<', '>', '<=', '>=']);

function describeValue(value: LiteralValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  return typeof value === 'number' ? 'a number' : 'a boolean';
}

class Compiler {
  readonly params: SqlValue[] = [];

  constructor(private readonly target: CompileTarget) {}

  compile(node: FilterNode): string {
    switch (node.kind) {
      case 'and':
      case 'or': {
        // A chain `a and b and c` is one flat SQL group rather than nested parentheses.
        const operands: FilterNode[] = [];
        const stack: FilterNode[] = [node];
        while (stack.length > 0) {
          const n = stack.pop()!;
          if (n.kind === node.kind) stack.push(n.right, n.left);
          else operands.push(n);
        }
        const glue = node.kind === 'and' ? ' AND ' : ' OR ';
        return `(${operands.map((n) => this.compile(n)).join(glue)})`;
      }
      case 'not':
        return `NOT (${this.compile(node.operand)})`;
      case 'compare':
        return node.field.anyOf
          ? this.anyOf(node.field, [node.value], node.op, node.opPosition)
          : this.compare(node);
      case 'contains': {
        if (node.field.anyOf) return this.anyOf(node.field, [node.value], 'contains', node.opPosition);
        const spec = this.scalar(node.field);
        if (fieldType(spec) !== 'string') {
          throw new FilterError(
            `contains applies to text fields; ${node.field.name} is ${fieldType(spec)}`,
            node.opPosition,
          );
        }
        this.param(node.field, spec, node.value);
        return this.nullSafe(spec, `instr(${this.column(spec)}, ?) > 0`);
      }
      case 'in':
        return node.field.anyOf ? this.anyOf(node.field, node.values, 'in', node.opPosition) : this.in(node);
    }
  }

  private in(node: Extract<FilterNode, { kind: 'in' }>): string {
    const spec = this.scalar(node.field);
    for (const value of node.values) {
      if (value.value === null) {
        throw new FilterError(
          `null cannot be in an in list; write ${node.field.name} = null`,
          value.position,
        );
      }
      this.param(node.field, spec, value);
    }
    const marks = node.values.map(() => '?').join(', ');
    return this.nullSafe(spec, `${this.column(spec)} IN (${marks})`);
  }

  private compare(node: Extract<FilterNode, { kind: 'compare' }>): string {
    const spec = this.scalar(node.field);
    const column = this.column(spec);
    if (node.value.value === null) {
      if (node.op === '=') return `${column} IS NULL`;
      if (node.op === '!=') return `${column} IS NOT NULL`;
      throw new FilterError(`null can only be compared with = or !=`, node.value.position);
    }
    if (ORDERED_OPS.has(node.op) && fieldType(spec) === 'boolean') {
      throw new FilterError(
        `${node.op} does not apply to ${node.field.name}, which is true or false; use = or !=`,
        node.opPosition,
      );
    }
    this.param(node.field, spec, node.value);
    // On a nullable column, = and != treat NULL as a value, so `not` and != agree.
    if (spec.nullable && node.op === '=') return `${column} IS ?`;
    if (spec.nullable && node.op === '!=') return `${column} IS NOT ?`;
    const op = node.op === '!=' ? '<>' : node.op;
    return this.nullSafe(spec, `${column} ${op} ?`);
  }

  /** `anyOf(list) = v` and `anyOf(list) in [...]`: some element of the list matches. */
  private anyOf(
    field: FieldRef,
    values: readonly Literal[],
    op: CompareOp | 'in' | 'contains',
    opPosition: number,
  ): string {
    const spec = this.known(field);
    if (fieldType(spec) !== 'attributes' && fieldType(spec) !== 'list') {
      throw new FilterError(`anyOf( ) applies to list fields; ${field.name} is not a list`, field.position);
    }
    if (op !== '=' && op !== 'in') {
      throw new FilterError(`anyOf(${field.name}) can only be used with = or in`, opPosition);
    }
    for (const value of values) {
      if (typeof value.value !== 'string') {
        throw new FilterError(
          `anyOf(${field.name}) takes strings; got ${describeValue(value.value)}`,
          value.position,
        );
      }
    }
    const test = values.length === 1 ? '= ?' : `IN (${values.map(() => '?').join(', ')})`;
    if (fieldType(spec) === 'attributes') {
      if (this.target.attributeEntityType === undefined) {
        throw new FilterError(`${field.name} cannot be filtered here`, field.position);
      }
      this.params.push(this.target.attributeEntityType, ...values.map((v) => v.value as string));
      // IN, not a correlated EXISTS: SQLite then reads the matching ids from the
      // entity_attributes_by_attribute index (entity_type, attribute, entity_id) instead of probing
      // the primary key once per entity (0.2 ms against 110 ms at 100k identities).
      return (
        `${this.target.alias}.id IN (SELECT ea.entity_id FROM entity_attributes ea` +
        ` WHERE ea.entity_type = ? AND ea.attribute ${test})`
      );
    }
    this.params.push(...values.map((v) => v.value as string));
    return `EXISTS (SELECT 1 FROM json_each(${this.column(spec)}) je WHERE je.value ${test})`;
  }

  private known(field: FieldRef): FieldSpec {
    const spec = Object.hasOwn(this.target.fields, field.name) ? this.target.fields[field.name] : undefined;
    if (!spec) {
      const names = Object.keys(this.target.fields).filter((n) => this.target.fields[n]?.kind !== 'json');
      throw new FilterError(`unknown field ${field.name}; known fields: ${names.join(', ')}`, field.position);
    }
    return spec;
  }

  /** The spec of a field compared as a single value (not through anyOf). */
  private scalar(field: FieldRef): FieldSpec {
    const spec = this.known(field);
    if (fieldType(spec) === 'attributes' || fieldType(spec) === 'list') {
      throw new FilterError(
        `${field.name} is a list; match its elements with anyOf(${field.name}) = "value"`,
        field.position,
      );
    }
    if (fieldType(spec) === 'json') {
      throw new FilterError(`${field.name} cannot be filtered`, field.position);
    }
    return spec;
  }

  /** Checks `literal` against the field's type and adds it as a parameter. */
  private param(field: FieldRef, spec: FieldSpec, literal: Literal): void {
    const value = literal.value;
    const wrong = (expected: string): never => {
      throw new FilterError(`${field.name} takes ${expected}; got ${describeValue(value)}`, literal.position);
    };
    switch (fieldType(spec)) {
      case 'string':
        if (typeof value !== 'string') wrong('a string');
        this.params.push(value as string);
        return;
      case 'integer':
        if (typeof value !== 'number') wrong('a number');
        this.params.push(value as number);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') wrong('true or false');
        this.params.push(value ? 1 : 0);
        return;
      case 'datetime': {
        if (typeof value !== 'string') wrong('a date-time string like "2024-05-01T12:00:00Z"');
        const iso = normaliseDateTime(value as string);
        if (iso === undefined) {
          throw new FilterError(
            `${field.name} takes a UTC date-time like "2024-05-01" or "2024-05-01T12:00:00.000Z"; got ${JSON.stringify(value)}`,
            literal.position,
          );
        }
        this.params.push(iso);
        return;
      }
      default:
        throw new FilterError(`${field.name} cannot be compared`, field.position);
    }
  }

  private column(spec: FieldSpec): string {
    return `${this.target.alias}.${spec.column}`;
  }

  /** On a nullable column a test is false, not unknown, for NULL: `not` then means what it says. */
  private nullSafe(spec: FieldSpec, test: string): string {
    return spec.nullable ? `(${this.column(spec)} IS NOT NULL AND ${test})` : test;
  }
}

/**
 * Compiles a parsed filter for one entity table. Throws a FilterError (with the position from the
 * tree) for unknown fields, operators that do not apply to a field and values of the wrong type.
 */
export function compileFilter(node: FilterNode, target: CompileTarget): CompiledFilter {
  const compiler = new Compiler(target);
  const where = compiler.compile(node);
  return { where, params: compiler.params };
}
