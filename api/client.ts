/**
 * A typed client for the Trellis API, over the same endpoint declarations the server answers by:
 * one method per operationId, its request and answer types inferred from the zod schemas.
 *
 *   const trellis = createClient({ baseUrl: 'http://localhost:3000', key: 'sk_…' });
 *   const contact = await trellis.createContact({ body: { email: 'ada@example.com' } });
 *   const page = await trellis.listExecutions({ params: { id: workflowId }, query: { status: 'WAITING' } });
 *
 * A non-2xx answer throws TrellisApiError with the status and the error's code, message and details.
 * Only depends on zod and the declarations (no server code), and on the global `fetch`.
 */
import type { z } from 'zod';
import { endpoints, type Endpoints } from './contracts';
import { isJsonResponse, type Endpoint, type PathParam, type ResponseOf } from './endpoint';

/** What one call takes: path ids, query, body and extra headers, as the endpoint declares them. */
export type RequestOf<E extends Endpoint> = (E['params'] extends Record<string, PathParam> ? { params: { [K in keyof E['params']]: string } } : unknown) &
  (E['query'] extends z.ZodObject ? { query?: z.input<E['query']> } : unknown) &
  (E['body'] extends z.ZodType ? { body: z.input<E['body']> } : unknown) & { headers?: Record<string, string> };

type Call<E extends Endpoint> =
  // biome-ignore lint/complexity/noBannedTypes: `{}` is the request type of a route with nothing required.
  {} extends RequestOf<E> ? (request?: RequestOf<E>) => Promise<ResponseOf<E>> : (request: RequestOf<E>) => Promise<ResponseOf<E>>;

export type TrellisClient = { [K in keyof Endpoints]: Call<Endpoints[K]> };

export interface ClientOptions {
  /** The API's base URL, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** A project's secret key (`sk_…`), its public key for tracking only, or ADMIN_API_KEY for /admin. */
  key?: string;
  fetch?: typeof fetch;
}

/** A non-2xx answer: the HTTP status and the error of SPEC §10. */
export class TrellisApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'TrellisApiError';
  }
}

/** Builds the URL of a call: path ids encoded into the path, defined query values as text. */
function urlOf(baseUrl: string, e: Endpoint, request: { params?: Record<string, string>; query?: Record<string, unknown> }): string {
  const path = e.path.replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(String(request.params?.[name] ?? '')));
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined && value !== null) query.set(name, String(value));
  const text = query.toString();
  return `${baseUrl.replace(/\/+$/, '')}${path}${text ? `?${text}` : ''}`;
}

/** Sends one call and reads its answer by the endpoint's declaration. */
async function call(
  options: ClientOptions,
  e: Endpoint,
  request: { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; headers?: Record<string, string> },
) {
  const headers: Record<string, string> = { accept: 'application/json', ...(request.headers ?? {}) };
  if (options.key && e.auth !== 'public') headers.authorization = `Bearer ${options.key}`;
  if (e.body) headers['content-type'] = 'application/json';
  const res = await (options.fetch ?? fetch)(urlOf(options.baseUrl, e, request), {
    method: e.method.toUpperCase(),
    headers,
    body: e.body ? JSON.stringify(request.body ?? {}) : undefined,
    redirect: 'manual',
  });
  const spec = e.responses[res.status as keyof Endpoint['responses']];
  if (res.status >= 400 || spec === undefined) {
    const text = await res.text();
    let error: { code?: string; message?: string; details?: unknown } = {};
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
    } catch {
      /* not the error shape: reported by status */
    }
    throw new TrellisApiError(res.status, error.code ?? 'UNEXPECTED_STATUS', error.message ?? (text.slice(0, 200) || res.statusText), error.details);
  }
  if (spec === null) return undefined;
  if (isJsonResponse(spec)) return res.json();
  return spec.contentType === null ? (res.headers.get('location') ?? '') : res.text();
}

/** A client with one method per endpoint (see the module comment). */
export function createClient(options: ClientOptions): TrellisClient {
  return Object.fromEntries(Object.entries(endpoints).map(([name, e]) => [name, (request = {}) => call(options, e, request)])) as unknown as TrellisClient;
}

export type { Endpoints };
