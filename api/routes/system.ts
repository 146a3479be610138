/** Health, readiness and metrics (api/operator-routes.ts), the OpenAPI document and its reference page (public, no key). */
import { endpoints } from '../contracts';
import * as api from '../contracts/system';
import type { ApiDeps } from '../deps';
import { DOCS_HTML } from '../docs-page';
import { openApiDocument } from '../openapi';
import { route, type Route } from '../routing';
import { operatorRoutes } from '../operator-routes';

let document: Record<string, unknown> | undefined;

export function systemRoutes(deps: ApiDeps): Route[] {
  return [
    ...operatorRoutes(deps),

    // Built once per process: the declarations do not change while it runs.
    route(api.openapi, () => (document ??= openApiDocument(Object.values(endpoints)))),

    route(api.docs, ({ res }) => {
      res.status(200).type('html').send(DOCS_HTML);
    }),
  ];
}
