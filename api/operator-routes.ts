/** Health, readiness and the Prometheus metrics (public, no key): the routes METRICS_PORT serves too. */
import { pingDatabase } from '../db/client';
import * as api from './contracts/system';
import type { ApiDeps } from './deps';
import { reply, route, type Route } from './routing';
import { contentType as metricsContentType, exposition } from '../telemetry/metrics';

export function operatorRoutes(deps: Pick<ApiDeps, 'database' | 'temporal' | 'isReady'>): Route[] {
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

    route(api.metrics, async ({ res }) => {
      res.setHeader('Content-Type', metricsContentType);
      res.send(await exposition());
    }),
  ];
}
