/** zod at the edge: every body, query and path parameter is parsed here or refused with 400. */
import { z } from 'zod';
import { ApiError, notFound } from './errors';

/**
 * Dotted paths of a zod issue: a body field by its own path (`email`, `config.amount`), a query
 * parameter as `query.<name>`, a nested value under the body field it came from; an unknown key is
 * reported at its own path.
 */
function issueDetails(where: string, issue: z.core.$ZodIssue): { path: string; message: string }[] {
  const base = [...(where === 'body' ? [] : [where]), ...issue.path.map(String)].filter((p) => p !== '');
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...base, key].join('.'), message: `unknown field "${key}"` }));
  return [{ path: base.join('.'), message: issue.message }];
}

/**
 * Parses `value` with `schema`, or throws 400 VALIDATION_ERROR listing every bad field. `where` is
 * `body`, `query`, or the body field that `value` was taken from.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: string = 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // One detail per bad field: the first issue (a wrong type) says the most.
  const details = result.error.issues.flatMap((i) => issueDetails(where, i)).filter((d, i, all) => all.findIndex((o) => o.path === d.path) === i);
  throw new ApiError(400, 'VALIDATION_ERROR', `invalid ${where || 'input'}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}

/** How deep a request's JSON may nest: deeper input is refused before anything recurses into it. */
export const MAX_JSON_DEPTH = 64;
// A NUL character, or half of a surrogate pair: Postgres refuses both in text and jsonb.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point.
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Refuses input that no schema could safely handle, walking it without recursion: JSON nested
 * deeper than MAX_JSON_DEPTH, and text (values or keys) that Postgres cannot store.
 */
export function checkInput(value: unknown, where: string): void {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: where === 'body' ? [] : [where] }];
  while (stack.length) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE_TEXT.test(v)) throw badText(path);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length - (where === 'body' ? 0 : 1) >= MAX_JSON_DEPTH) {
      const at = path.join('.');
      throw new ApiError(400, 'VALIDATION_ERROR', `input nests deeper than ${MAX_JSON_DEPTH} levels at ${at || 'the top'}`, [
        { path: at, message: `nests deeper than ${MAX_JSON_DEPTH} levels` },
      ]);
    }
    for (const [key, child] of Object.entries(v)) {
      if (UNSTORABLE_TEXT.test(key)) throw badText([...path, key]);
      stack.push({ value: child, path: [...path, key] });
    }
  }
}

function badText(path: string[]): ApiError {
  const at = path.join('.');
  return new ApiError(400, 'VALIDATION_ERROR', `invalid text at ${at || 'the top'}: NUL characters and unpaired surrogates are not allowed`, [
    { path: at, message: 'must not contain NUL characters or unpaired surrogates' },
  ]);
}

const uuid = z.uuid();

/** A path id: anything that is not a UUID cannot exist, so it answers 404 like an unknown id. */
export function pathId(value: unknown, what: string): string {
  const r = uuid.safeParse(value);
  if (!r.success) throw notFound(what);
  return r.data;
}

export { jsonObject, pagination } from './schemas/common';

/** The list envelope of SPEC §5. */
export function listOf<T>(data: T[], total: number, page: number, pageSize: number) {
  return { data, total, page, pageSize };
}
