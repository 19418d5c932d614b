/**
 * Create and edit forms, generated from the collection table: the values a form starts with, the
 * zod schema that checks what was typed and turns it into a request body, and the fields an edit
 * changed. The node checks everything again; this catches mistakes before a round trip.
 */
import { z } from 'zod';
import type { CollectionName, Entity, JsonValue } from '../api/types.js';
import { describeCollection, type FieldDescription } from './collections.js';

/** What the inputs hold: text for everything but checkboxes. */
export type FormValues = Record<string, string | boolean>;

/** A request body: API field names and typed values. */
export type EntityPayload = Record<string, JsonValue>;

export type FormMode = 'create' | 'edit';

/** Whether a form may leave the field empty (the API then uses its default). */
export function isOptional(field: FieldDescription, mode: FormMode): boolean {
  if (field.optional) return true;
  if (field.kind === 'password') return mode === 'edit';
  return (
    field.kind === 'json' || field.kind === 'roles' || field.kind === 'attributes' || field.kind === 'refs'
  );
}

/** Splits a list typed as text: commas or new lines separate, blanks are dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function formatValue(field: FieldDescription, value: JsonValue | undefined): string | boolean {
  if (field.kind === 'boolean') return value === true;
  if (field.kind === 'password') return '';
  if (value === undefined || value === null) return '';
  if (
    Array.isArray(value) &&
    (field.kind === 'roles' || field.kind === 'attributes' || field.kind === 'refs')
  ) {
    return value.map(String).join(', ');
  }
  if (field.kind === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}

/** The values a form starts with: the entity's, or each field's initial value for a new one. */
export function initialValues(collection: CollectionName, entity?: Entity): FormValues {
  const values: FormValues = {};
  for (const field of describeCollection(collection).fields) {
    if (entity) {
      values[field.name] = formatValue(field, entity[field.name]);
    } else if (field.kind === 'boolean') {
      values[field.name] = field.initial === true;
    } else {
      values[field.name] = field.initial === undefined ? '' : String(field.initial);
    }
  }
  return values;
}

function roleProblem(role: string): string | undefined {
  if (role === '#all') return undefined;
  if ((role.startsWith('#') || role.startsWith('@')) && role.length > 1) return undefined;
  return `"${role}" must be #attribute, @id or #all`;
}

function attributeProblem(attribute: string): string | undefined {
  return attribute.startsWith('#') || attribute.startsWith('@')
    ? `"${attribute}" is a name: leave out the # or @`
    : undefined;
}

function listSchema(
  check: (item: string) => string | undefined,
  whole?: (items: string[]) => string | undefined,
) {
  return z.string().transform((text, ctx) => {
    const items = splitList(text);
    for (const item of items) {
      const problem =
        item.length > 255 ? `"${item.slice(0, 20)}…" is longer than 255 characters` : check(item);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
    }
    const problem = whole?.(items);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return items;
  });
}

function fieldSchema(field: FieldDescription, mode: FormMode): z.ZodType<JsonValue | undefined> {
  switch (field.kind) {
    case 'string':
    case 'datetime': {
      const min = field.min ?? 0;
      const max = field.max ?? 255;
      let text = z.string().trim().max(max, `At most ${max} characters`);
      if (min > 0 && !field.optional) text = text.min(min, 'Required');
      return field.optional ? text.transform((v) => (v === '' ? undefined : v)) : text;
    }
    case 'password': {
      const min = field.min ?? 1;
      const max = field.max ?? 1024;
      const secret = z.string().max(max, `At most ${max} characters`);
      return mode === 'create'
        ? secret.min(min, `At least ${min} characters`)
        : secret
            .refine((v) => v === '' || v.length >= min, `At least ${min} characters`)
            .transform((v) => v || undefined);
    }
    case 'enum': {
      const options = field.options ?? [];
      return z.string().refine((v) => options.includes(v), `Choose one of ${options.join(', ')}`);
    }
    case 'integer': {
      const min = field.min ?? Number.MIN_SAFE_INTEGER;
      const max = field.max ?? Number.MAX_SAFE_INTEGER;
      return z
        .string()
        .trim()
        .regex(/^-?\d+$/, 'Enter a whole number')
        .transform(Number)
        .pipe(z.number().min(min, `At least ${min}`).max(max, `At most ${max}`));
    }
    case 'boolean':
      return z.boolean();
    case 'json':
      return z.string().transform((text, ctx) => {
        if (text.trim() === '') return {};
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: `Not JSON: ${(error as Error).message}` });
          return z.NEVER;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          ctx.addIssue({ code: 'custom', message: 'Must be a JSON object: { … }' });
          return z.NEVER;
        }
        return value as JsonValue;
      });
    case 'roles':
      return listSchema(roleProblem, (items) =>
        items.includes('#all') && items.length > 1 ? '#all must stand alone' : undefined,
      );
    case 'attributes':
      return listSchema(attributeProblem);
    case 'refs':
      return listSchema(() => undefined);
    case 'ref':
      return field.optional
        ? z
            .string()
            .trim()
            .transform((v) => (v === '' ? null : v))
        : z.string().trim().min(1, 'Required');
  }
}

/** The schema a form's values must pass; its output is the request body (create) or full state (edit). */
export function formSchema(collection: CollectionName, mode: FormMode) {
  const shape: Record<string, z.ZodType<JsonValue | undefined>> = {};
  for (const field of describeCollection(collection).fields) shape[field.name] = fieldSchema(field, mode);
  return z.object(shape).transform((values) => {
    const payload: EntityPayload = {};
    for (const [key, value] of Object.entries(values)) if (value !== undefined) payload[key] = value;
    return payload;
  });
}

function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The fields of `next` that differ from `entity`: the body of a PATCH. */
export function changedFields(entity: Entity, next: EntityPayload): EntityPayload {
  const patch: EntityPayload = {};
  for (const [key, value] of Object.entries(next)) {
    if (!sameJson(entity[key], value)) patch[key] = value;
  }
  return patch;
}
