/**
 * Hand-written API answers for the UI's client tests, checked against the contract: each is
 * parsed with the schema the node serialises that answer with, so a fixture the node could never
 * send fails here instead of passing a test.
 */
import type { z } from 'zod';
import { createSchema, entitySchema, type CollectionName } from '../../contract/index.js';

const AT = '2030-01-01T00:00:00.000Z';

/** `value`, which must be an answer `schema` allows (parse throws otherwise). */
export function answer<S extends z.ZodType>(schema: S, value: z.input<S>): z.output<S> {
  return schema.parse(value);
}

/** One entity of `c` as the node answers it: the given fields, the API's defaults for the rest. */
export function entityFixture(
  c: Exclude<CollectionName, 'admins'>,
  fields: { readonly id: string; readonly revision?: number; readonly [field: string]: unknown },
): Record<string, unknown> {
  const { id, revision = 1, ...own } = fields;
  const data = createSchema(c).parse(own);
  return entitySchema(c).parse({ ...data, id, createdAt: AT, updatedAt: AT, revision });
}
