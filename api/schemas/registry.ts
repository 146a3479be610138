/**
 * Named schemas: each one registered here becomes a component of the OpenAPI document
 * (`#/components/schemas/<id>`), referenced wherever it is used instead of being repeated.
 */
import { z } from 'zod';

export interface SchemaMeta {
  id: string;
  description?: string;
  examples?: unknown[];
}

export const schemaRegistry = z.registry<SchemaMeta>();

/** Names `schema` in the document (the same instance is returned, so validation is unchanged). */
export function component<S extends z.ZodType>(id: string, schema: S, meta: Omit<SchemaMeta, 'id'> = {}): S {
  schemaRegistry.add(schema, { id, ...meta });
  return schema;
}

/**
 * Schemas that validate by hand (a refinement over `z.unknown()`, so that error paths stay exact)
 * and that the document shows as the equivalent declarative schema instead.
 */
export const documentedAs = new Map<z.ZodType, z.ZodType>();

/** Shows `runtime` in the document as `shown`; returns `runtime`. */
export function documentAs<S extends z.ZodType>(runtime: S, shown: z.ZodType): S {
  documentedAs.set(runtime, shown);
  return runtime;
}
