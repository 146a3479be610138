/** The Express application: every route from its declaration (api/routing.ts), then the error shape. */
import express from 'express';
import { authenticate, authenticateAdmin } from './auth';
import type { ApiDeps } from './deps';
import { docsAssets } from './docs-page';
import { notFound } from './errors';
import { httpMetrics, requestLogging } from './observability';
import type { LiveReload } from './live-reload';
import { webApp } from './web-app';
import { errorHandler, mountMethodNotAllowed, mountRoutes, type ResponseCheck } from './routing';
import { contactTagRoutes } from './routes/contact-tags';
import { contactRoutes } from './routes/contacts';
import { emailLinkRoutes } from './routes/email-links';
import { enrolmentRoutes } from './routes/enrolments';
import { executionGraphRoutes } from './routes/execution-graph';
import { executionRoutes } from './routes/executions';
import { executionPurgeRoutes } from './routes/execution-purges';
import { graphRoutes } from './routes/graph';
import { messageRoutes } from './routes/messages';
import { projectRoutes } from './routes/projects';
import { recordRoutes } from './routes/records';
import { segmentRoutes } from './routes/segments';
import { settingsRoutes } from './routes/settings';
import { systemRoutes } from './routes/system';
import { templateDraftRoutes } from './routes/template-drafts';
import { templateRoutes } from './routes/templates';
import { browserTracking, trackRoutes } from './routes/track';
import { workflowDocumentRoutes } from './routes/workflow-documents';
import { workflowTemplateRoutes } from './routes/workflow-templates';
import { workflowRoutes } from './routes/workflows';

/**
 * Builds the HTTP application over its dependencies. With `responseCheck` every answer is held
 * against its route's declaration and violations are recorded there (tests, the API fuzzer).
 */
export function createApp(deps: ApiDeps, options: { responseCheck?: ResponseCheck; liveReload?: LiveReload } = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLogging(deps.logger), httpMetrics);
  app.use(docsAssets(), webApp(undefined, options.liveReload));
  app.use('/v1/track', browserTracking);
  const routes = [
    ...systemRoutes(deps),
    ...emailLinkRoutes(deps),
    ...projectRoutes(deps),
    ...trackRoutes(deps),
    ...contactRoutes(deps),
    ...contactTagRoutes(deps),
    ...templateDraftRoutes(deps),
    ...templateRoutes(deps),
    ...workflowTemplateRoutes(deps),
    ...workflowRoutes(deps),
    ...graphRoutes(deps),
    ...workflowDocumentRoutes(deps),
    ...enrolmentRoutes(deps),
    ...executionRoutes(deps),
    ...executionPurgeRoutes(deps),
    ...executionGraphRoutes(deps),
    ...recordRoutes(deps),
    ...messageRoutes(deps),
    ...segmentRoutes(deps),
    ...settingsRoutes(deps),
  ];
  mountRoutes(app, routes, {
    auth: {
      pk: authenticate(deps.database, { allowPublic: true }),
      sk: authenticate(deps.database, { allowPublic: false }),
      admin: authenticateAdmin(deps.config.adminApiKey),
    },
    responseCheck: options.responseCheck,
  });
  mountMethodNotAllowed(app, routes);
  app.use(() => {
    throw notFound('route');
  });
  app.use(errorHandler(options.responseCheck));
  return app;
}
