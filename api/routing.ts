/**
 * Serving endpoints (api/endpoint.ts): each route is its declaration plus a handler. The layer checks
 * the key, parses a JSON body only where one is declared, validates path ids, query and body with
 * api/validate.ts (so error paths are the same everywhere), runs the handler and answers with the
 * declared status. With a response check (tests, the fuzzer) every answer is also held against the
 * declaration: a body that breaks its schema becomes a 500, an undeclared error status is recorded.
 */
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import { projectOf, type ProjectRow } from './auth';
import {
  defaultStatus,
  documentedErrors,
  isJsonResponse,
  type Auth,
  type BodyInputOf,
  type Endpoint,
  type HandlerBodyOf,
  type ParamsOf,
  type QueryOf,
} from './endpoint';
import { ApiError, answerFor } from './errors';
import { checkInput, parse, pathId } from './validate';
import { ErrorBody } from './schemas/common';

/** An answer with another status than the endpoint's default one (e.g. readiness 503). */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** Answers `body` with `status` instead of the endpoint's default status. */
export function reply(status: number, body: unknown): Reply {
  return new Reply(status, body);
}

export interface HandlerInput<E extends Endpoint> {
  params: ParamsOf<E>;
  query: QueryOf<E>;
  body: BodyInputOf<E>;
  /** The calling project (routes with `auth: 'pk' | 'sk'`). */
  project: E['auth'] extends 'pk' | 'sk' ? ProjectRow : undefined;
  req: Request;
  /** For raw answers (pages, images, redirects): send with it and return nothing. */
  res: Response;
}

type Awaitable<T> = T | Promise<T>;
export type Handler<E extends Endpoint> = (input: HandlerInput<E>) => Awaitable<HandlerBodyOf<E> | Reply>;

export interface Route {
  endpoint: Endpoint;
  handler: Handler<Endpoint>;
  /** Middleware run after the key check and body parsing, before validation (e.g. a rate limit). */
  before: RequestHandler[];
}

/** Pairs an endpoint with its handler. */
export function route<E extends Endpoint>(endpoint: E, handler: Handler<E>, options: { before?: RequestHandler[] } = {}): Route {
  return { endpoint, handler: handler as unknown as Handler<Endpoint>, before: options.before ?? [] };
}

/** Violations found by the response check; tests fail when any is recorded. */
export interface ResponseCheck {
  violations: string[];
}

export interface MountOptions {
  /** The key check of each non-public kind of route. */
  auth: Record<Exclude<Auth, 'public'>, RequestHandler>;
  responseCheck?: ResponseCheck;
}

const jsonBody = express.json({ limit: '1mb', strict: true, type: () => true });

/** The endpoint a request was routed to (set first in each route's chain), for the error answer. */
function endpointOf(res: Response): Endpoint | undefined {
  return res.locals.endpoint as Endpoint | undefined;
}

/** Mounts every route on `app`, in order. */
export function mountRoutes(app: Express, routes: Route[], options: MountOptions): void {
  // A path without parameters refuses the methods it does not serve before a route with a
  // parameter in its place can take them (PATCH /templates/preview is not PATCH /templates/:id).
  for (const [path, { served, allow }] of servedMethods(routes)) {
    if (!path.includes(':')) app.route(path).all(refuseOtherMethods(allow, served));
  }
  const seen = new Set<string>();
  for (const r of routes) {
    const e = r.endpoint;
    const key = `${e.method.toUpperCase()} ${e.path}`;
    if (seen.has(key)) throw new Error(`route declared twice: ${key}`);
    seen.add(key);
    const chain: RequestHandler[] = [
      (_req, res, next) => {
        res.locals.endpoint = e;
        next();
      },
    ];
    // Keys before bodies: a request without a valid key is answered 401/403 whatever its body holds.
    if (e.auth !== 'public') chain.push(options.auth[e.auth]);
    if (e.body) chain.push(jsonBody);
    chain.push((req, _res, next) => {
      if (e.body) checkInput(req.body, 'body');
      if (e.query) checkInput(req.query, 'query');
      next();
    });
    chain.push(...r.before, answer(r, options.responseCheck));
    app[e.method](e.path, ...chain);
  }
}

/**
 * A known path with a parameter, with a method it does not serve: 405 naming the ones it does
 * (OPTIONS lists them). Mounted after every route, just before the 404, so that no route is shadowed
 * by it (the paths without parameters refuse theirs before the routes: mountRoutes).
 */
export function mountMethodNotAllowed(app: Express, routes: Route[]): void {
  // route().all(), unlike app.all(), is one catch-all layer (and the route walkers can tell it apart).
  for (const [path, { allow }] of servedMethods(routes)) {
    if (path.includes(':')) app.route(path).all(refuseOtherMethods(allow));
  }
}

/** Each declared path's methods, and its `Allow` header (HEAD with GET, and OPTIONS). */
function servedMethods(routes: Route[]): Map<string, { served: ReadonlySet<string>; allow: string }> {
  const methods = new Map<string, string[]>();
  for (const { endpoint: e } of routes) methods.set(e.path, [...(methods.get(e.path) ?? []), e.method.toUpperCase()]);
  return new Map(
    [...methods].map(([path, declared]) => {
      const served = [...declared, ...(declared.includes('GET') ? ['HEAD'] : [])];
      return [path, { served: new Set(served), allow: [...served, 'OPTIONS'].join(', ') }];
    }),
  );
}

/** Answers OPTIONS with `allow` and any other method but those `served` (passed on) with 405. */
function refuseOtherMethods(allow: string, served: ReadonlySet<string> = new Set()): RequestHandler {
  return (req, res, next) => {
    if (served.has(req.method)) {
      next();
      return;
    }
    res.set('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; allowed: ${allow}`);
  };
}

function answer(r: Route, check: ResponseCheck | undefined): RequestHandler {
  const e = r.endpoint;
  const status = defaultStatus(e);
  return async (req, res) => {
    const params: Record<string, string> = {};
    for (const [name, p] of Object.entries(e.params ?? {})) {
      params[name] = p.kind === 'id' ? pathId(req.params[name], p.what) : String(req.params[name]);
    }
    const query = e.query ? parse(e.query, req.query, 'query') : {};
    // No body at all reads as an empty one, as an empty JSON body does.
    const body = e.body ? parse(e.body, req.body ?? {}) : undefined;
    const project = e.auth === 'pk' || e.auth === 'sk' ? projectOf(req) : undefined;
    const result = await r.handler({ params, query, body, project, req, res } as HandlerInput<Endpoint>);
    if (res.headersSent) {
      if (check && !(res.statusCode in e.responses)) violation(check, e, `answered ${res.statusCode}, which it does not declare`);
      return;
    }
    const [code, value] = result instanceof Reply ? [result.status, result.body] : [status, result];
    const spec = e.responses[code as keyof Endpoint['responses']];
    if (check) {
      if (spec === undefined) violation(check, e, `answered ${code}, which it does not declare`);
      if (isJsonResponse(spec)) {
        const parsed = spec.safeParse(value);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
          violation(check, e, `${code} body does not match its schema: ${issues}`);
          throw new Error(`response of ${e.operationId} does not match its schema: ${issues}`);
        }
      }
    }
    if (spec === null) res.status(code).end();
    else res.status(code).json(value);
  };
}

function violation(check: ResponseCheck, e: Endpoint, message: string): void {
  const text = `${e.method.toUpperCase()} ${e.path} (${e.operationId}): ${message}`;
  check.violations.push(text);
  console.error(`response check: ${text}`);
}

/**
 * The error answer (SPEC §10). With a response check, an error status or code that the route does
 * not declare, and any 500, is recorded as a violation.
 */
export function errorHandler(check: ResponseCheck | undefined): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { status, body } = answerFor(err, req);
    const e = endpointOf(res);
    if (check && status === 500) check.violations.push(`${e ? `${e.method.toUpperCase()} ${e.path}` : 'unrouted request'}: answered 500`);
    else if (check && !ErrorBody.safeParse(body).success) {
      check.violations.push(`${e ? `${e.method.toUpperCase()} ${e.path}` : 'unrouted request'}: error body does not match the Error schema`);
    } else if (check && e) {
      const codes = documentedErrors(e).get(status);
      if (!codes) violation(check, e, `answered error ${status} ${body.error.code}, which it does not declare`);
      else if (!codes.includes(body.error.code)) violation(check, e, `answered ${status} with code ${body.error.code}, not one of ${codes.join(', ')}`);
    }
    res.status(status).json(body);
  };
}
