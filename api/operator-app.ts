/**
 * The listener of METRICS_PORT: the API's /healthz, /readyz and /metrics (operator-routes.ts), and
 * nothing else. It loads only those routes, so a worker that serves it holds none of the API's others.
 */
import express from 'express';
import { authenticate, authenticateAdmin } from './auth';
import type { ApiDeps } from './deps';
import { errorMiddleware, notFound } from './errors';
import { httpMetrics, requestLogging } from './observability';
import { mountRoutes } from './routing';
import { operatorRoutes } from './operator-routes';

export function createOperatorApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogging(deps.logger), httpMetrics);
  mountRoutes(app, operatorRoutes(deps), {
    auth: {
      pk: authenticate(deps.database, { allowPublic: true }),
      sk: authenticate(deps.database, { allowPublic: false }),
      admin: authenticateAdmin(deps.config.adminApiKey),
    },
  });
  app.use(() => {
    throw notFound('route');
  });
  app.use(errorMiddleware);
  return app;
}
