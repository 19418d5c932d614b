/**
 * Validators for admin-supplied config type schemas, built so that validating a config inside
 * apply stays deterministic and bounded whatever the schema and the data say:
 * - the schema's cost per value is bounded before it is compiled (schema-cost.ts);
 * - a fresh Ajv per schema (a shared one registers each `$id`: a patched type, or a second type
 *   with the same `$id`, would then throw on a long-running node but not on one restored from a
 *   snapshot, and the replicas' results would differ);
 * - `pattern`/`patternProperties` on RE2 (re2js, linear time): `^(a+)+$` cannot hang the nodes;
 *   patterns RE2 does not support (backreferences, lookaround) make the schema unusable;
 * - `$ref`s compiled as functions, never inlined (inlining a chain of references doubles the
 *   generated code per level);
 * - `uniqueItems` by hashing each item's canonical JSON: linear, where Ajv compares every pair;
 * - at most MAX_REPORTED_ERRORS field errors in a refusal (it is stored and answered).
 */
import { Ajv, type Options as AjvOptions, type ValidateFunction } from 'ajv';
import { RE2JS } from 're2js';
import { canonicalJson } from './canonical-json.js';
import { ModelError, type FieldError } from './errors.js';
import { schemaCostProblem } from './schema-cost.js';

export const MAX_REPORTED_ERRORS = 20;

type RegExpEngine = NonNullable<NonNullable<AjvOptions['code']>['regExp']>;

const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string): { test(s: string): boolean } => {
    const re = RE2JS.compile(pattern);
    return { test: (s: string) => re.matcher(s).find() };
  },
  { code: 're2js' },
);

interface KeywordErrors {
  errors?: { keyword: string; message: string; params: Record<string, unknown> }[] | null;
}

/** `uniqueItems` in linear time: a Set of the items' canonical JSON. */
function uniqueItems(this: unknown, schema: boolean, data: unknown[]): boolean {
  const self = uniqueItems as unknown as KeywordErrors;
  self.errors = null;
  if (!schema) return true;
  const seen = new Map<string, number>();
  for (const [i, item] of data.entries()) {
    const key = canonicalJson(item);
    const j = seen.get(key);
    if (j !== undefined) {
      self.errors = [
        {
          keyword: 'uniqueItems',
          message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
          params: { i, j },
        },
      ];
      return false;
    }
    seen.set(key, i);
  }
  return true;
}

/** A validator for `schema`, or a ModelError saying why it is unusable (the same on every node). */
export function compileConfigSchema(schema: unknown, what: string): ValidateFunction {
  const costly = schemaCostProblem(schema);
  if (costly) throw new ModelError('INVALID', `${what} has an unusable schema: ${costly}`);
  try {
    const ajv = new Ajv({
      allErrors: true,
      strict: false,
      inlineRefs: false,
      code: { regExp: linearRegExp },
    });
    ajv.removeKeyword('uniqueItems');
    ajv.addKeyword({
      keyword: 'uniqueItems',
      type: 'array',
      schemaType: 'boolean',
      errors: true,
      validate: uniqueItems,
    });
    return ajv.compile(schema as object);
  } catch (err) {
    throw new ModelError('INVALID', `${what} has an unusable schema: ${(err as Error).message}`);
  }
}

/** The field errors of a failed validation, the first MAX_REPORTED_ERRORS of them. */
export function configDataErrors(validate: ValidateFunction): FieldError[] {
  const all = validate.errors ?? [];
  const shown = all.slice(0, MAX_REPORTED_ERRORS).map((e) => ({
    field: `data${e.instancePath.replaceAll('/', '.')}`,
    message: e.message ?? 'invalid',
  }));
  if (all.length > MAX_REPORTED_ERRORS) {
    shown.push({ field: 'data', message: `and ${all.length - MAX_REPORTED_ERRORS} more errors` });
  }
  return shown;
}
