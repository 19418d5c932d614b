/**
 * How the contract's schemas appear in the OpenAPI document: the names of its components and the
 * descriptions of fields. They live in the contract's own registry rather than zod's global one,
 * so that importing the contract twice in one process (two bundles, a test runner's module
 * isolation) never registers a name twice; the API's document generator is given this registry.
 */
import { z } from 'zod';

// A type, not an interface: the document generator's registries take metadata with an index signature.
export type SchemaMeta = {
  /** The component's name: the document defines it once and references it by `$ref`. */
  id?: string;
  description?: string;
  /** A JSON Schema format, e.g. `binary` for a file. */
  format?: string;
};

export const apiSchemas = z.registry<SchemaMeta>();

/** `schema`, named `id` in the document (it is defined once under components and referenced). */
export function named<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  apiSchemas.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

/** `schema` with a description for the document. */
export function described<T extends z.ZodType>(schema: T, description: string): T {
  apiSchemas.add(schema, { description });
  return schema;
}

/** A file's bytes, as an answer of another media type than JSON carries them. */
export function binary(description: string) {
  const schema = z.custom<Uint8Array>((value) => value instanceof Uint8Array);
  apiSchemas.add(schema, { description, format: 'binary' });
  return schema;
}
