/**
 * The filter language: what each construct parses to, precedence, every error with its position,
 * the SQL each construct compiles to, and properties: printed trees parse back to themselves, the
 * compiled SQL depends on the tree's shape and never on its values, and no input makes the parser
 * throw anything but a FilterError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  compileFilter,
  FilterError,
  isFilterKeyword,
  MAX_FILTER_BYTES,
  MAX_FILTER_DEPTH,
  parseFilter,
  printFilter,
  withoutPositions,
  type CompareOp,
  type CompileTarget,
  type FieldRef,
  type FilterNode,
  type Literal,
  type LiteralValue,
} from '../../../core/model/filter/index.js';

const target: CompileTarget = {
  alias: 'e',
  attributeEntityType: 'identity',
  fields: {
    id: { column: 'id', kind: 'string' },
    name: { column: 'name', kind: 'string' },
    cost: { column: 'cost', kind: 'integer' },
    disabled: { column: 'disabled', kind: 'boolean' },
    createdAt: { column: 'created_at', kind: 'datetime' },
    identityId: { column: 'identity_id', kind: 'string', nullable: true },
    roleAttributes: { column: 'role_attributes', kind: 'attributes' },
    identityRoles: { column: 'identity_roles', kind: 'roles' },
    tags: { column: 'tags', kind: 'json' },
  },
};

// Trees without positions, written the way the tests read.
const field = (name: string, anyOf = false): FieldRef => ({ name, anyOf, position: 0 });
const lit = (value: LiteralValue): Literal => ({ value, position: 0 });
const cmp = (name: string, op: CompareOp, value: LiteralValue, anyOf = false): FilterNode => ({
  kind: 'compare',
  field: field(name, anyOf),
  op,
  opPosition: 0,
  value: lit(value),
});
const contains = (name: string, value: LiteralValue): FilterNode => ({
  kind: 'contains',
  field: field(name),
  opPosition: 0,
  value: lit(value),
});
const inList = (name: string, values: LiteralValue[], anyOf = false): FilterNode => ({
  kind: 'in',
  field: field(name, anyOf),
  opPosition: 0,
  values: values.map(lit),
});
const and = (left: FilterNode, right: FilterNode): FilterNode => ({ kind: 'and', left, right });
const or = (left: FilterNode, right: FilterNode): FilterNode => ({ kind: 'or', left, right });
const not = (operand: FilterNode): FilterNode => ({ kind: 'not', operand });

const parsed = (text: string) => withoutPositions(parseFilter(text));
const compiled = (text: string) => compileFilter(parseFilter(text), target);

/** Parses and compiles `text`, which must fail; returns the FilterError. */
function filterError(text: string): FilterError {
  try {
    compiled(text);
  } catch (e) {
    if (e instanceof FilterError) return e;
    throw e;
  }
  throw new Error(`expected a FilterError for ${text}`);
}

describe('parsing', () => {
  it('reads each comparison operator', () => {
    for (const op of ['=', '!=', '<', '>', '<=', '>='] as const) {
      expect(parsed(`cost ${op} 5`)).toEqual(withoutPositions(cmp('cost', op, 5)));
    }
    expect(parsed('cost>=5')).toEqual(withoutPositions(cmp('cost', '>=', 5)));
  });

  it('reads contains, in and anyOf', () => {
    expect(parsed('name contains "lap"')).toEqual(withoutPositions(contains('name', 'lap')));
    expect(parsed('name in ["a", "b" ,"c"]')).toEqual(withoutPositions(inList('name', ['a', 'b', 'c'])));
    expect(parsed('anyOf(roleAttributes) = "staff"')).toEqual(
      withoutPositions(cmp('roleAttributes', '=', 'staff', true)),
    );
    expect(parsed('anyOf( roleAttributes ) in ["a"]')).toEqual(
      withoutPositions(inList('roleAttributes', ['a'], true)),
    );
  });

  it('reads every kind of value', () => {
    const value = (text: string) => {
      const node = parseFilter(`x = ${text}`);
      return node.kind === 'compare' ? node.value.value : undefined;
    };
    expect(value('"plain"')).toBe('plain');
    expect(value('""')).toBe('');
    expect(value(String.raw`"q\"b\\s\/n\nt\tr\rb\bf\f"`)).toBe('q"b\\s/n\nt\tr\rb\bf\f');
    expect(value(String.raw`"\u00e9\u6771\ud83d\ude00"`)).toBe('é東😀');
    expect(value('"東京 😀 <b>"')).toBe('東京 😀 <b>');
    expect(value('0')).toBe(0);
    expect(value('-12')).toBe(-12);
    expect(value('3.25')).toBe(3.25);
    expect(value('1e3')).toBe(1000);
    expect(value('-2.5E-2')).toBe(-0.025);
    expect(value('true')).toBe(true);
    expect(value('FALSE')).toBe(false);
    expect(value('null')).toBe(null);
  });

  it('treats keywords in any case, field names exactly', () => {
    expect(parsed('NOT a = 1 AND b = 2 Or anyof(c) IN ["x"] and d CONTAINS "y"')).toEqual(
      parsed('not a = 1 and b = 2 or anyOf(c) in ["x"] and d contains "y"'),
    );
    expect(parsed('Name = "x"')).toEqual(withoutPositions(cmp('Name', '=', 'x')));
    expect(isFilterKeyword('Contains')).toBe(true);
    expect(isFilterKeyword('name')).toBe(false);
  });

  it('binds not tighter than and, and tighter than or', () => {
    const [a, b, c] = [cmp('a', '=', 1), cmp('b', '=', 2), cmp('c', '=', 3)];
    expect(parsed('a = 1 or b = 2 and c = 3')).toEqual(withoutPositions(or(a, and(b, c))));
    expect(parsed('a = 1 and b = 2 or c = 3')).toEqual(withoutPositions(or(and(a, b), c)));
    expect(parsed('not a = 1 and b = 2')).toEqual(withoutPositions(and(not(a), b)));
    expect(parsed('not a = 1 or b = 2')).toEqual(withoutPositions(or(not(a), b)));
    expect(parsed('not not a = 1')).toEqual(withoutPositions(not(not(a))));
  });

  it('groups and and or to the left, and lets parentheses override', () => {
    const [a, b, c] = [cmp('a', '=', 1), cmp('b', '=', 2), cmp('c', '=', 3)];
    expect(parsed('a = 1 and b = 2 and c = 3')).toEqual(withoutPositions(and(and(a, b), c)));
    expect(parsed('a = 1 or b = 2 or c = 3')).toEqual(withoutPositions(or(or(a, b), c)));
    expect(parsed('(a = 1 or b = 2) and c = 3')).toEqual(withoutPositions(and(or(a, b), c)));
    expect(parsed('not (a = 1 and b = 2)')).toEqual(withoutPositions(not(and(a, b))));
    expect(parsed('((a = 1))')).toEqual(withoutPositions(a));
  });

  it('records 1-based character positions of fields, operators and values', () => {
    const node = parseFilter('  name  !=  "x"');
    expect(node).toMatchObject({ field: { position: 3 }, opPosition: 9, value: { position: 13 } });
    // An astral character is one character, not two UTF-16 units.
    const after = parseFilter('name = "😀" or cost in [1, 2]');
    expect(after).toMatchObject({
      kind: 'or',
      right: { field: { position: 15 }, opPosition: 20, values: [{ position: 24 }, { position: 27 }] },
    });
    expect(parseFilter('anyOf(roleAttributes) = "x"')).toMatchObject({ field: { position: 7 } });
  });

  it('accepts a filter of exactly the byte limit and the deepest nesting allowed', () => {
    const exact = `name = "${'a'.repeat(MAX_FILTER_BYTES - 9)}"`;
    expect(Buffer.byteLength(exact)).toBe(MAX_FILTER_BYTES);
    expect(() => parseFilter(exact)).not.toThrow();
    const deep = `${'('.repeat(MAX_FILTER_DEPTH)}a = 1${')'.repeat(MAX_FILTER_DEPTH)}`;
    expect(() => parseFilter(deep)).not.toThrow();
    expect(() => parseFilter(`${'not '.repeat(MAX_FILTER_DEPTH)}a = 1`)).not.toThrow();
  });
});

describe('errors say what is wrong and where', () => {
  // [filter, part of the message, 1-based position]
  const cases: [string, string, number][] = [
    ['', 'the filter is empty', 1],
    ['   ', 'the filter is empty', 4],
    ['name = "abc', 'unterminated string', 8],
    ['name = "abc\\', 'unterminated string', 8],
    ['name = "a\\qb"', 'unknown escape \\q', 10],
    ['name = "\\u12G4"', '\\u must be followed by four hex digits', 9],
    ['name = "x" extra', "unexpected 'extra' after a complete expression", 12],
    ['name = "x" "y"', 'unexpected string "y" after a complete expression', 12],
    ['name = "x")', '(no matching opening parenthesis)', 11],
    ['(name = "x"', "expected ')' to close the '(' at position 1, found the end of the filter", 12],
    ['(name = "x" or', 'expected a field name, found the end of the filter', 15],
    ['name', 'expected an operator (=, !=, <, >, <=, >=, contains, in) after the field, found the end', 5],
    ['name "x"', 'expected an operator', 6],
    ['name = ', 'expected a value', 8],
    ['name = abc', "found 'abc' (strings are written in double quotes)", 8],
    ["name = 'x'", 'strings are written in double quotes', 8],
    ['name == "x"', 'expected a value (a "string", a number, true, false or null), found \'=\'', 7],
    ['name in []', 'an in list needs at least one value', 10],
    ['name in ["a" "b"]', "expected ',' or ']' in the list of values, found string \"b\"", 14],
    ['name in ["a",]', 'expected a value', 14],
    ['name in "a"', "expected '[' to open the list of values", 9],
    ['and = 1', "expected a field name, found 'and', which is not a field name", 1],
    ['= 1', "expected a field name, found '='", 1],
    ['anyOf roleAttributes = "x"', "expected '(' after anyOf", 7],
    ['anyOf(1) = "x"', 'expected a field name inside anyOf( )', 7],
    ['anyOf(roleAttributes = "x"', "expected ')' to close anyOf(", 22],
    ['cost = 12abc', 'malformed number', 8],
    ['cost = 1.', 'malformed number', 8],
    ['cost = -', 'malformed number', 8],
    ['cost = 1e999', 'number 1e999 is out of range', 8],
    ['name = "x" & cost = 1', "unexpected character '&'", 12],
    ['name = "x" ! cost = 1', "unexpected character '!'", 12],
    ['name = "😀😀" ; x', "unexpected character ';'", 13],
    ['name = "x" and é = 1', 'unexpected character "é"', 16],
    ['name; drop table identities = 1', "unexpected character ';'", 5],
    ['"name" = "x"', 'expected a field name, found string "name"', 1],
    [`name = "${'x'.repeat(60)}" y`, `unexpected 'y'`, 71],
    // Compilation: fields and values checked against the field map.
    ['nme = "x"', 'unknown field nme; known fields: id, name, cost, disabled, createdAt, identityId', 1],
    ['cost = 1 and password_hash = "x"', 'unknown field password_hash', 14],
    ['__proto__ = "x"', 'unknown field __proto__', 1],
    ['constructor = "x"', 'unknown field constructor', 1],
    ['cost < "5"', 'cost takes a number; got a string', 8],
    ['name < 5', 'name takes a string; got a number', 8],
    ['name = true', 'name takes a string; got a boolean', 8],
    ['cost in [1, "2"]', 'cost takes a number; got a string', 13],
    ['disabled < true', '< does not apply to disabled, which is true or false; use = or !=', 10],
    ['disabled = "yes"', 'disabled takes true or false; got a string', 12],
    ['createdAt > 5', 'createdAt takes a date-time string', 13],
    ['createdAt > "yesterday"', 'createdAt takes a UTC date-time like "2024-05-01"', 13],
    ['createdAt > "2024-02-30"', 'got "2024-02-30"', 13],
    ['createdAt > "2024-05-01T12:00:00+02:00"', 'createdAt takes a UTC date-time', 13],
    ['cost contains "1"', 'contains applies to text fields; cost is integer', 6],
    ['name contains 1', 'name takes a string; got a number', 15],
    [
      'roleAttributes = "x"',
      'roleAttributes is a list; match its elements with anyOf(roleAttributes) = "value"',
      1,
    ],
    ['identityRoles contains "x"', 'identityRoles is a list', 1],
    ['anyOf(name) = "x"', 'anyOf( ) applies to list fields; name is not a list', 7],
    ['anyOf(name) in ["x"]', 'anyOf( ) applies to list fields; name is not a list', 7],
    ['anyOf(nope) = "x"', 'unknown field nope', 7],
    ['anyOf(roleAttributes) != "x"', 'anyOf(roleAttributes) can only be used with = or in', 23],
    ['anyOf(roleAttributes) contains "x"', 'anyOf(roleAttributes) can only be used with = or in', 23],
    ['anyOf(roleAttributes) = 5', 'anyOf(roleAttributes) takes strings; got a number', 25],
    ['anyOf(identityRoles) in ["#a", null]', 'anyOf(identityRoles) takes strings; got null', 32],
    ['tags = "x"', 'tags cannot be filtered', 1],
    ['name in ["a", null]', 'null cannot be in an in list; write name = null', 15],
    ['cost < null', 'null can only be compared with = or !=', 8],
  ];

  it.each(cases)('%j: %s at %i', (text, detail, position) => {
    const error = filterError(text);
    expect(error.code).toBe('INVALID_FILTER');
    expect(error.detail).toContain(detail);
    expect(error.position).toBe(position);
    expect(error.message).toBe(`${error.detail} (at position ${position})`);
  });

  it('rejects a filter over the byte limit at the first character past it', () => {
    const tooLong = `name = "${'a'.repeat(MAX_FILTER_BYTES)}"`;
    expect(filterError(tooLong)).toMatchObject({
      detail: `the filter is longer than ${MAX_FILTER_BYTES} bytes`,
      position: MAX_FILTER_BYTES + 1,
    });
    // Multi-byte characters count in bytes; the position counts characters.
    const wide = `name = "${'é'.repeat(MAX_FILTER_BYTES)}"`;
    expect(filterError(wide).position).toBe(8 + (MAX_FILTER_BYTES - 8) / 2 + 1);
  });

  it('rejects nesting deeper than the limit at the token that goes too deep', () => {
    const deep = `${'('.repeat(MAX_FILTER_DEPTH + 1)}a = 1${')'.repeat(MAX_FILTER_DEPTH + 1)}`;
    expect(filterError(deep)).toMatchObject({
      detail: `the filter nests deeper than ${MAX_FILTER_DEPTH} levels`,
      position: MAX_FILTER_DEPTH + 1,
    });
    const nots = `${'not '.repeat(MAX_FILTER_DEPTH + 1)}a = 1`;
    expect(filterError(nots).position).toBe(MAX_FILTER_DEPTH * 4 + 1);
    expect(filterError(`not (${'('.repeat(MAX_FILTER_DEPTH)}a = 1`).position).toBe(MAX_FILTER_DEPTH + 4);
  });

  it('rejects a long flat chain only by its length, not its depth', () => {
    const chain = Array.from({ length: 300 }, (_, i) => `cost = ${i}`).join(' or ');
    expect(compiled(chain).params).toHaveLength(300);
  });
});

describe('compiling to SQL', () => {
  const cases: [string, string, unknown[]][] = [
    ['name = "x"', 'e.name = ?', ['x']],
    ['name != "x"', 'e.name <> ?', ['x']],
    ['cost < 5', 'e.cost < ?', [5]],
    ['cost > -5', 'e.cost > ?', [-5]],
    ['cost <= 2.5', 'e.cost <= ?', [2.5]],
    ['cost >= 0', 'e.cost >= ?', [0]],
    ['name >= "m"', 'e.name >= ?', ['m']],
    ['disabled = true', 'e.disabled = ?', [1]],
    ['disabled != false', 'e.disabled <> ?', [0]],
    ['name contains "ap"', 'instr(e.name, ?) > 0', ['ap']],
    ['name in ["a", "b"]', 'e.name IN (?, ?)', ['a', 'b']],
    ['cost in [1]', 'e.cost IN (?)', [1]],
    ['createdAt >= "2024-05-01"', 'e.created_at >= ?', ['2024-05-01T00:00:00.000Z']],
    ['createdAt < "2024-05-01T12:30"', 'e.created_at < ?', ['2024-05-01T12:30:00.000Z']],
    ['createdAt = "2024-05-01T12:30:05.1Z"', 'e.created_at = ?', ['2024-05-01T12:30:05.100Z']],
    ['name = null', 'e.name IS NULL', []],
    ['name != null', 'e.name IS NOT NULL', []],
    // A nullable column: = and != treat NULL as a value; other tests are false on NULL.
    ['identityId = "i"', 'e.identity_id IS ?', ['i']],
    ['identityId != "i"', 'e.identity_id IS NOT ?', ['i']],
    ['identityId > "i"', '(e.identity_id IS NOT NULL AND e.identity_id > ?)', ['i']],
    ['identityId contains "i"', '(e.identity_id IS NOT NULL AND instr(e.identity_id, ?) > 0)', ['i']],
    ['identityId in ["i"]', '(e.identity_id IS NOT NULL AND e.identity_id IN (?))', ['i']],
    [
      'anyOf(roleAttributes) = "staff"',
      'e.id IN (SELECT ea.entity_id FROM entity_attributes ea WHERE ea.entity_type = ? AND ea.attribute = ?)',
      ['identity', 'staff'],
    ],
    [
      'anyOf(roleAttributes) in ["a", "b"]',
      'e.id IN (SELECT ea.entity_id FROM entity_attributes ea WHERE ea.entity_type = ? AND ea.attribute IN (?, ?))',
      ['identity', 'a', 'b'],
    ],
    [
      'anyOf(identityRoles) = "#staff"',
      'EXISTS (SELECT 1 FROM json_each(e.identity_roles) je WHERE je.value = ?)',
      ['#staff'],
    ],
    [
      'anyOf(identityRoles) in ["#a", "@b"]',
      'EXISTS (SELECT 1 FROM json_each(e.identity_roles) je WHERE je.value IN (?, ?))',
      ['#a', '@b'],
    ],
    ['not name = "x"', 'NOT (e.name = ?)', ['x']],
    ['not not name = "x"', 'NOT (NOT (e.name = ?))', ['x']],
    ['name = "a" and cost = 1 and id = "c"', '(e.name = ? AND e.cost = ? AND e.id = ?)', ['a', 1, 'c']],
    ['name = "a" or cost = 1 and id = "c"', '(e.name = ? OR (e.cost = ? AND e.id = ?))', ['a', 1, 'c']],
    ['(name = "a" or cost = 1) and id = "c"', '((e.name = ? OR e.cost = ?) AND e.id = ?)', ['a', 1, 'c']],
    ['name = "a" and (cost = 1 and id = "c")', '(e.name = ? AND e.cost = ? AND e.id = ?)', ['a', 1, 'c']],
    ['not (name = "a" or cost = 1)', 'NOT ((e.name = ? OR e.cost = ?))', ['a', 1]],
  ];

  it.each(cases)('%s', (text, where, params) => {
    expect(compiled(text)).toEqual({ where, params });
  });

  it('keeps injection attempts in values as parameters', () => {
    expect(compiled(String.raw`name = "x\" or 1=1 --"`)).toEqual({
      where: 'e.name = ?',
      params: ['x" or 1=1 --'],
    });
    expect(compiled(`name = "'; DROP TABLE identities; --"`)).toEqual({
      where: 'e.name = ?',
      params: ["'; DROP TABLE identities; --"],
    });
    expect(compiled('name contains "<script>alert(1)</script>"').params).toEqual([
      '<script>alert(1)</script>',
    ]);
  });

  it('refuses anyOf(roleAttributes) for a table without role attributes', () => {
    const { attributeEntityType: _, ...withoutAttributes } = target;
    expect(() => compileFilter(parseFilter('anyOf(roleAttributes) = "x"'), withoutAttributes)).toThrow(
      'roleAttributes cannot be filtered here (at position 7)',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const fieldName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/).filter((n) => !isFilterKeyword(n));
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('"', '\\', '\\"', "'", '--', '/*', ';', '\u2028', '\ud800', '<b>', '東京', '😀', '\n\t'),
);
const anyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
);
const anyLiteral: fc.Arbitrary<LiteralValue> = fc.oneof(
  anyString,
  anyNumber,
  fc.boolean(),
  fc.constant(null),
);
const compareOp = fc.constantFrom<CompareOp>('=', '!=', '<', '>', '<=', '>=');

/** Any syntactically valid tree (fields and types unchecked), positions zero. */
const anyTree: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .record({ name: fieldName, anyOf: fc.boolean(), op: compareOp, value: anyLiteral })
      .map(({ name, anyOf, op, value }) => cmp(name, op, value, anyOf)),
    fc.record({ name: fieldName, value: anyLiteral }).map(({ name, value }) => contains(name, value)),
    fc
      .record({
        name: fieldName,
        anyOf: fc.boolean(),
        values: fc.array(anyLiteral, { minLength: 1, maxLength: 4 }),
      })
      .map(({ name, anyOf, values }) => inList(name, values, anyOf)),
    tie('node').map(not),
    fc.tuple(tie('node'), tie('node')).map(([l, r]) => and(l, r)),
    fc.tuple(tie('node'), tie('node')).map(([l, r]) => or(l, r)),
  ),
})).node;

const dateTime = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** Trees that compile against `target`: right fields, operators and value types. */
const validTree: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc
        .tuple(fc.constantFrom('id', 'name', 'identityId'), compareOp, anyString)
        .map(([n, op, v]) => cmp(n, op, v)),
      fc.tuple(fc.constantFrom('name', 'identityId'), anyString).map(([n, v]) => contains(n, v)),
      fc
        .tuple(fc.constantFrom('name', 'identityId'), fc.array(anyString, { minLength: 1, maxLength: 4 }))
        .map(([n, v]) => inList(n, v)),
      fc
        .tuple(fc.constantFrom('name', 'identityId'), fc.constantFrom<CompareOp>('=', '!='))
        .map(([n, op]) => cmp(n, op, null)),
      fc.tuple(compareOp, anyNumber).map(([op, v]) => cmp('cost', op, v)),
      fc.array(anyNumber, { minLength: 1, maxLength: 4 }).map((v) => inList('cost', v)),
      fc.tuple(fc.constantFrom<CompareOp>('=', '!='), fc.boolean()).map(([op, v]) => cmp('disabled', op, v)),
      fc.tuple(compareOp, dateTime).map(([op, v]) => cmp('createdAt', op, v)),
      fc
        .tuple(fc.constantFrom('roleAttributes', 'identityRoles'), anyString)
        .map(([n, v]) => cmp(n, '=', v, true)),
      fc
        .tuple(
          fc.constantFrom('roleAttributes', 'identityRoles'),
          fc.array(anyString, { minLength: 1, maxLength: 4 }),
        )
        .map(([n, v]) => inList(n, v, true)),
    ),
    tie('node').map(not),
    fc.tuple(tie('node'), tie('node')).map(([l, r]) => and(l, r)),
    fc.tuple(tie('node'), tie('node')).map(([l, r]) => or(l, r)),
  ),
})).node;

/** The same tree with every value replaced by another of the same type. */
function otherValues(node: FilterNode, salt: string): FilterNode {
  const swap = (l: Literal): Literal => {
    const v = l.value;
    if (typeof v === 'string') {
      // A date stays a date; anything else gets hostile text around it.
      const date = /^\d{4}-/.test(v) && !Number.isNaN(Date.parse(v));
      return { ...l, value: date ? new Date(Date.parse(v) + 1).toISOString() : `${salt}'"${v}--;` };
    }
    if (typeof v === 'number') return { ...l, value: v + 1 };
    if (typeof v === 'boolean') return { ...l, value: !v };
    return l;
  };
  switch (node.kind) {
    case 'and':
    case 'or':
      return { ...node, left: otherValues(node.left, salt), right: otherValues(node.right, salt) };
    case 'not':
      return { ...node, operand: otherValues(node.operand, salt) };
    case 'compare':
    case 'contains':
      return { ...node, value: swap(node.value) };
    case 'in':
      return { ...node, values: node.values.map(swap) };
  }
}

describe('properties', () => {
  it('a printed tree parses back to the same tree', () => {
    fc.assert(
      fc.property(anyTree, (tree) => {
        expect(withoutPositions(parseFilter(printFilter(tree)))).toEqual(withoutPositions(tree));
      }),
      { numRuns: 500 },
    );
  });

  it('compiled SQL depends on the shape of the tree, never on its values', () => {
    fc.assert(
      fc.property(validTree, fc.string(), (tree, salt) => {
        // Through the text, as a request would arrive.
        const first = compileFilter(parseFilter(printFilter(tree)), target);
        const second = compileFilter(parseFilter(printFilter(otherValues(tree, salt))), target);
        expect(second.where).toBe(first.where);
        expect(second.params).toHaveLength(first.params.length);
        // No quotes (so no string literals), no comments, no statement separators.
        expect(first.where).toMatch(/^[A-Za-z0-9_ .,()?=<>]+$/);
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but a FilterError, whatever the input', () => {
    const fragment = fc.constantFrom(
      'name',
      'cost',
      'anyOf',
      '(',
      ')',
      '[',
      ']',
      ',',
      '=',
      '!=',
      '<',
      '>=',
      'and',
      'or',
      'not',
      'in',
      'contains',
      '"x"',
      '"',
      '\\',
      '1',
      '-',
      '1e',
      'true',
      'null',
      ' ',
      '😀',
      ';',
      "'",
    );
    const input = fc.oneof(
      fc.string(),
      fc.array(fragment, { maxLength: 20 }).map((parts) => parts.join(' ')),
    );
    fc.assert(
      fc.property(input, (text) => {
        try {
          compiled(text);
        } catch (e) {
          expect(e).toBeInstanceOf(FilterError);
          const error = e as FilterError;
          expect(error.position).toBeGreaterThanOrEqual(1);
          expect(error.position).toBeLessThanOrEqual([...text].length + 1);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
