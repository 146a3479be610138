/** The one error shape of the API (SPEC §10) and the middleware that produces it. */
import type { ErrorRequestHandler, Request } from 'express';

export interface ErrorDetail {
  path: string;
  message: string;
}

/** An error that becomes an HTTP answer: status, machine code, human message, optional details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} not found`);
export const conflict = (message: string, code = 'CONFLICT', details?: unknown) => new ApiError(409, code, message, details);
export const badRequest = (message: string, details?: ErrorDetail[]) => new ApiError(400, 'VALIDATION_ERROR', message, details);

/** True when a Postgres unique constraint refused the write (drizzle wraps the driver's error: causes are searched). */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === '23505') return true;
  }
  return false;
}

/** Postgres error codes and network failures that mean "the database is unreachable" (drizzle wraps them: causes are searched). */
function isDatabaseDown(err: unknown): boolean {
  for (let e = err as { code?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code && ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003'].includes(e.code)) return true;
    if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** The answer to an error: `{error: {code, message, details?}}` with its status; never a stack trace. */
export function errorAnswer(err: unknown): { status: number; body: { error: { code: string; message: string; details?: unknown } } } {
  const answer = (status: number, code: string, message: string, details?: unknown) => ({
    status,
    body: { error: { code, message, ...(details !== undefined ? { details } : {}) } },
  });
  if (err instanceof ApiError) return answer(err.status, err.code, err.message, err.details);
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.parse.failed') return answer(400, 'VALIDATION_ERROR', 'request body is not valid JSON');
  if (e.type === 'entity.too.large') return answer(413, 'PAYLOAD_TOO_LARGE', 'request body is over 1 MB');
  // A path that does not decode (`%ED%A0%80`) names nothing that can exist, like a non-UUID id.
  if (e instanceof URIError || (e.status === 400 && e.message?.startsWith('Failed to decode param'))) return answer(404, 'NOT_FOUND', 'not found');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const code = e.status === 404 ? 'NOT_FOUND' : e.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_ERROR';
    return answer(e.status, code, e.message ?? 'bad request');
  }
  if (isDatabaseDown(err)) return answer(503, 'SERVICE_UNAVAILABLE', 'the database is unreachable');
  return answer(500, 'INTERNAL', 'internal error');
}

/** Logs what an answer hides (an unreachable database, an unhandled error) and adds the request id. */
export function answerFor(
  err: unknown,
  req: Request,
): { status: number; body: { error: { code: string; message: string; details?: unknown; requestId?: string } } } {
  const answer = errorAnswer(err);
  // Without the request-logging middleware (an app built for a unit test) there is no log and no id.
  if (answer.status === 503) req.log?.warn({ err }, 'database unreachable');
  if (answer.status >= 500 && answer.status !== 503) req.log?.error({ err }, 'unhandled error');
  return { status: answer.status, body: { error: { ...answer.body.error, ...(req.id !== undefined ? { requestId: String(req.id) } : {}) } } };
}

/** Turns any error into `{error: {code, message, details?, requestId}}`; never leaks a stack trace. */
export const errorMiddleware: ErrorRequestHandler = (err, req, res, _next) => {
  const { status, body } = answerFor(err, req);
  res.status(status).json(body);
};
