/** What every request goes through for the operator: a request id, a JSON log line, HTTP metrics; and GET /metrics. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../telemetry/logger';
import { httpRequestDuration } from '../telemetry/metrics';

/** An incoming X-Request-Id is kept when it is short and plain (it is echoed and logged). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honours a sane X-Request-Id or makes one; echoes it as a response header. */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * pino-http: `req.id` and `req.log` (a child logger carrying `requestId`) for every request, and one
 * line when it is answered. Only method, path and status are logged: headers carry keys.
 */
export function requestLogging(logger: Logger): express.RequestHandler {
  return pinoHttp({
    logger,
    genReqId: requestId,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    // A 5xx that the error middleware answered gets a made-up Error with a stack from pino-http: the
    // status says it all (the middleware logged the cause on its own line).
    customErrorObject: (_req, _res, err, val) => (err.message.startsWith('failed with status code') ? { ...val, err: undefined } : val),
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  }) as unknown as express.RequestHandler;
}

/**
 * Times every request into `trellis_http_request_duration_seconds` by route pattern (`/contacts/:id`,
 * never the path itself, so ids never become labels); requests no route matched count as `unmatched`.
 */
export const httpMetrics: express.RequestHandler = (req, res, next) => {
  const stop = httpRequestDuration.startTimer();
  res.once('finish', () => {
    const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
    stop({ method: req.method, route, status: String(res.statusCode) });
  });
  next();
};
