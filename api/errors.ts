/** The one error shape of the API (SPEC §10) and the middleware that produces it. */
import type { ErrorRequestHandler } from 'express';

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

/** Postgres error codes and network failures that mean "the database is unreachable" (drizzle wraps them: causes are searched). */
function isDatabaseDown(err: unknown): boolean {
  for (let e = err as { code?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code && ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003'].includes(e.code)) return true;
    if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** Turns any error into `{error: {code, message, details?, requestId}}`; never leaks a stack trace. */
export const errorMiddleware: ErrorRequestHandler = (err, req, res, _next) => {
  const send = (status: number, code: string, message: string, details?: unknown) => {
    res.status(status).json({ error: { code, message, ...(details !== undefined ? { details } : {}), requestId: String(req.id) } });
  };
  if (err instanceof ApiError) return send(err.status, err.code, err.message, err.details);
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === 'entity.parse.failed') return send(400, 'VALIDATION_ERROR', 'request body is not valid JSON');
  if (e.type === 'entity.too.large') return send(413, 'PAYLOAD_TOO_LARGE', 'request body is over 1 MB');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return send(e.status, 'BAD_REQUEST', e.message ?? 'bad request');
  if (isDatabaseDown(err)) {
    req.log.warn({ err }, 'database unreachable');
    return send(503, 'SERVICE_UNAVAILABLE', 'the database is unreachable');
  }
  req.log.error({ err }, 'unhandled error');
  send(500, 'INTERNAL', 'internal error');
};
