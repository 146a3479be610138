/**
 * The contract of one HTTP route, declared once: method, path, who may call it, its zod request
 * schemas (path ids, query, body) and its responses. The server validates and answers by it
 * (api/routing.ts), the OpenAPI document is generated from it (api/openapi.ts), and the typed client
 * calls by it (api/client.ts). Pure data and zod: nothing here touches Express or the database.
 */
import type { z } from 'zod';

/** Who may call a route: nobody in particular, a project's public or secret key, the admin key. */
export type Auth = 'public' | 'pk' | 'sk' | 'admin';
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * A path parameter. `id`: a resource id; anything that is not a UUID cannot exist and answers 404
 * "<what> not found", exactly like an unknown id. `token`: an opaque signed token.
 */
export type PathParam = { kind: 'id'; what: string } | { kind: 'token'; what: string };
export const pathParam = {
  id: (what: string): PathParam => ({ kind: 'id', what }),
  token: (what: string): PathParam => ({ kind: 'token', what }),
};

/** A response that is not JSON (an HTML page, an image, a redirect), or has no body (`null` content type). */
export interface RawResponse {
  description: string;
  contentType: string | null;
  headers?: Record<string, string>;
}

/** A success response: a JSON body's schema, a raw response, or `null` for 204 No Content. */
export type ResponseSpec = z.ZodType | RawResponse | null;

export type SuccessStatus = 200 | 201 | 202 | 204 | 302;
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503;

/** A documented request header; the handler reads and checks it. */
export interface HeaderSpec {
  description: string;
  schema: z.ZodType;
}

export interface Endpoint {
  /** Unique, camelCase: the OpenAPI operationId and the typed client's method name. */
  operationId: string;
  method: Method;
  /** Express syntax: `/workflows/:id/steps/:stepId`. */
  path: string;
  auth: Auth;
  tag: string;
  summary: string;
  description?: string;
  /** Path parameters in the order they are checked; each must appear in `path`. */
  params?: Record<string, PathParam>;
  /** Query parameters: a z.object of optional/coerced fields (unknown ones are ignored). */
  query?: z.ZodObject;
  headers?: Record<string, HeaderSpec>;
  /** The JSON body. Routes without one never parse a body (the one-click unsubscribe carries a form). */
  body?: z.ZodType;
  /** An example request body for the document. */
  bodyExample?: unknown;
  /** Success responses by status; a handler answers the only one unless it returns `reply(status, body)`. */
  responses: Partial<Record<SuccessStatus | 503, ResponseSpec>>;
  /**
   * Error answers beyond the ones derived from the rest (400 for input, 401/403 for keys, 404 for
   * path ids, 413 for bodies, 503 for the database), each with its codes (SPEC §10).
   */
  errors?: Partial<Record<ErrorStatus, string[]>>;
  /** False for the routes that never touch Postgres (no 503). */
  database?: boolean;
}

/** Declares an endpoint, keeping its literal types for handlers and the client. */
export function endpoint<const E extends Endpoint>(e: E): E {
  return e;
}

/** True when a response spec is a JSON body schema. */
export function isJsonResponse(spec: ResponseSpec | undefined): spec is z.ZodType {
  return spec !== null && spec !== undefined && '_zod' in spec;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a 204 answers nothing.
type BodyOf<R> = R extends z.ZodType ? z.output<R> : R extends null ? void : string;
type SuccessKeys<E extends Endpoint> = Extract<keyof E['responses'], SuccessStatus>;

/** What a successful call answers: the parsed JSON body, nothing (204), or the raw text. */
export type ResponseOf<E extends Endpoint> = BodyOf<E['responses'][SuccessKeys<E>]>;
/** What a handler returns for the default status: the JSON body as its schema takes it. */
export type HandlerBodyOf<E extends Endpoint> = E['responses'][SuccessKeys<E>] extends infer R
  ? R extends z.ZodType
    ? z.input<R>
    : // biome-ignore lint/suspicious/noConfusingVoidType: a raw or empty answer's handler returns nothing.
      void
  : never;

export type ParamsOf<E extends Endpoint> = E['params'] extends Record<string, PathParam> ? { [K in keyof E['params']]: string } : Record<string, never>;
export type QueryOf<E extends Endpoint> = E['query'] extends z.ZodObject ? z.output<E['query']> : Record<string, never>;
export type BodyInputOf<E extends Endpoint> = E['body'] extends z.ZodType ? z.output<E['body']> : undefined;

/**
 * The error answers a route can give, by status, with their codes: the ones its declaration implies
 * (input → 400, a body → 413, keys → 401/403, path ids → 404, the database → 503) and its own.
 */
export function documentedErrors(e: Endpoint): Map<number, string[]> {
  const errors = new Map<number, string[]>();
  const add = (status: number, ...codes: string[]) => errors.set(status, [...new Set([...(errors.get(status) ?? []), ...codes])]);
  if (e.query || e.body) add(400, 'VALIDATION_ERROR');
  if (e.auth === 'pk' || e.auth === 'sk' || e.auth === 'admin') add(401, 'UNAUTHORIZED');
  if (e.auth === 'sk') add(403, 'FORBIDDEN');
  // Without ADMIN_API_KEY the admin routes do not exist.
  if (e.auth === 'admin' || Object.keys(e.params ?? {}).length) add(404, 'NOT_FOUND');
  if (e.body) add(413, 'PAYLOAD_TOO_LARGE');
  if (e.database !== false) add(503, 'SERVICE_UNAVAILABLE');
  for (const [status, codes] of Object.entries(e.errors ?? {})) add(Number(status), ...(codes ?? []));
  return new Map([...errors].sort(([a], [b]) => a - b));
}

/**
 * The status a handler answers by default: the endpoint's one success status, or the lowest of
 * several (a handler answers the others with `reply`, e.g. 202 for work it leaves to the background).
 */
export function defaultStatus(e: Endpoint): number {
  const statuses = Object.keys(e.responses)
    .map(Number)
    .filter((s) => s < 400)
    .sort((a, b) => a - b);
  if (statuses.length === 0) throw new Error(`${e.operationId}: declare a success status`);
  return statuses[0]!;
}
