/** zod at the edge: every body, query and path parameter is parsed here or refused with 400. */
import { z } from 'zod';
import { ApiError, notFound } from './errors';

/** Dotted path of a zod issue, prefixed with where it was found (`body`, `query`). */
function issuePath(prefix: string, path: PropertyKey[]): string {
  return [prefix, ...path.map(String)].filter((p) => p !== '').join('.');
}

/** Parses `value` with `schema`, or throws 400 VALIDATION_ERROR listing every bad field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | '' = 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: issuePath(where, i.path), message: i.message }));
  throw new ApiError(400, 'VALIDATION_ERROR', `invalid ${where || 'input'}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

const uuid = z.uuid();

/** A path id: anything that is not a UUID cannot exist, so it answers 404 like an unknown id. */
export function pathId(value: unknown, what: string): string {
  const r = uuid.safeParse(value);
  if (!r.success) throw notFound(what);
  return r.data;
}

/** `page` (from 1) and `pageSize` (1..100, default 20). */
export const pagination = {
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
};

/** A JSON object (not an array, not null). */
export const jsonObject = z.record(z.string(), z.unknown());

/** The list envelope of SPEC §5. */
export function listOf<T>(data: T[], total: number, page: number, pageSize: number) {
  return { data, total, page, pageSize };
}
