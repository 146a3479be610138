/** The Express application: public routes, then the project-authenticated API, then the error shape. */
import express from 'express';
import { sql } from 'drizzle-orm';
import { authenticate } from './auth';
import type { ApiDeps } from './deps';
import { errorMiddleware, notFound } from './errors';
import { checkInput } from './validate';
import { contactRoutes } from './routes/contacts';
import { emailLinkRoutes } from './routes/email-links';
import { enrolmentRoutes } from './routes/enrolments';
import { executionRoutes } from './routes/executions';
import { graphRoutes } from './routes/graph';
import { projectRoutes } from './routes/projects';
import { recordRoutes } from './routes/records';
import { templateRoutes } from './routes/templates';
import { trackRoutes } from './routes/track';
import { workflowRoutes } from './routes/workflows';

/** Builds the HTTP application over its dependencies. */
export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // The public email links (SPEC §8) come before the JSON parser: the one-click unsubscribe POST
  // carries a form body, which they never read.
  app.use(emailLinkRoutes(deps));
  // Keys before bodies: a request without a valid key is answered 401/403 whatever its body holds.
  app.use('/v1/track', authenticate(deps.database, { allowPublic: true }));
  const secret = authenticate(deps.database, { allowPublic: false });
  for (const prefix of ['/contacts', '/templates', '/workflows', '/events', '/emails']) app.use(prefix, secret);
  app.use(express.json({ limit: '1mb', strict: true, type: () => true }));
  app.use((req, _res, next) => {
    checkInput(req.body, 'body');
    checkInput(req.query, 'query');
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = { postgres: false, temporal: false, worker: deps.isReady() };
    try {
      await deps.database.db.execute(sql`select 1`);
      checks.postgres = true;
    } catch {
      /* reported below */
    }
    try {
      await deps.temporal.connection.withDeadline(Date.now() + 2000, () => deps.temporal.workflowService.getSystemInfo({}));
      checks.temporal = true;
    } catch {
      /* reported below */
    }
    const ready = checks.postgres && checks.temporal && checks.worker;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.use(projectRoutes(deps));
  app.use(trackRoutes(deps));
  app.use(contactRoutes(deps));
  app.use(templateRoutes(deps));
  app.use(workflowRoutes(deps));
  app.use(graphRoutes(deps));
  app.use(enrolmentRoutes(deps));
  app.use(executionRoutes(deps));
  app.use(recordRoutes(deps));

  app.use(() => {
    throw notFound('route');
  });
  app.use(errorMiddleware);
  return app;
}
