/** Health, readiness, the OpenAPI document and its reference page (public, no key). */
import { pingDatabase } from '../../db/client';
import { endpoints } from '../contracts';
import * as api from '../contracts/system';
import type { ApiDeps } from '../deps';
import { DOCS_HTML } from '../docs-page';
import { openApiDocument } from '../openapi';
import { reply, route, type Route } from '../routing';
import { contentType as metricsContentType, exposition } from '../../telemetry/metrics';

let document: Record<string, unknown> | undefined;

export function systemRoutes(deps: ApiDeps): Route[] {
  return [
    route(api.healthz, () => ({ status: 'ok' as const })),

    route(api.readyz, async () => {
      const checks = { postgres: false, temporal: false, worker: deps.isReady() };
      try {
        await pingDatabase(deps.database.db);
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
      return reply(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
    }),

    // Built once per process: the declarations do not change while it runs.
    route(api.openapi, () => (document ??= openApiDocument(Object.values(endpoints)))),

    route(api.metrics, async ({ res }) => {
      res.setHeader('Content-Type', metricsContentType);
      res.send(await exposition());
    }),

    route(api.docs, ({ res }) => {
      res.status(200).type('html').send(DOCS_HTML);
    }),
  ];
}
