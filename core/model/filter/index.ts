/**
 * The list filter language: a small, safe subset in the spirit of OpenZiti's filters.
 *
 *   filter     := or EOF
 *   or         := and ('or' and)*
 *   and        := not ('and' not)*
 *   not        := 'not' not | '(' or ')' | comparison
 *   comparison := field ('=' | '!=' | '<' | '>' | '<=' | '>=') value
 *               | field 'contains' value | field 'in' '[' value (',' value)* ']'
 *   field      := name | 'anyOf' '(' name ')'
 *   value      := "string" | number | 'true' | 'false' | 'null'
 *
 * Keywords are case-insensitive; field names are not. Strings are double-quoted with JSON's
 * escapes. The parser only knows syntax; `compileFilter` checks fields and value types against a
 * field map and emits parameterised SQL: values travel only as parameters, and only column names
 * from the map (never text from the filter) reach the SQL.
 */
export {
  compileFilter,
  type CompiledFilter,
  type CompileTarget,
  type FieldSpec,
  fieldType,
  type FieldType,
} from './compiler.js';
export { FilterError } from './error.js';
export { MAX_FILTER_BYTES, MAX_FILTER_DEPTH, parseFilter } from './parser.js';
export { printFilter } from './printer.js';
export { isFilterKeyword } from './tokenizer.js';
export {
  withoutPositions,
  type CompareOp,
  type FieldRef,
  type FilterNode,
  type Literal,
  type LiteralValue,
} from './tree.js';
