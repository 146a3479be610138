/** /admin/projects: creating projects and their keys, behind ADMIN_API_KEY. */
import { insertProject, projectPage } from '../../db/projects';
import { hashSecret, newKeys } from '../auth';
import * as api from '../contracts/projects';
import type { ApiDeps } from '../deps';
import { pageOut } from '../paging';
import { route, type Route } from '../routing';

export function projectRoutes({ config, database }: ApiDeps): Route[] {
  const inboundAddress = (id: string) => `${id}@${config.inboundDomain}`;
  return [
    route(api.createProject, async ({ body }) => {
      const keys = newKeys();
      const p = await insertProject(database.db, { name: body.name, publicKey: keys.publicKey, secretKeyHash: hashSecret(keys.secretKey) });
      return { id: p.id, name: p.name, publicKey: p.publicKey, secretKey: keys.secretKey, inboundAddress: inboundAddress(p.id) };
    }),

    route(api.listProjects, async ({ query }) =>
      pageOut(await projectPage(database.db, query), query, (p) => ({
        id: p.id,
        name: p.name,
        publicKey: p.publicKey,
        inboundAddress: inboundAddress(p.id),
        createdAt: p.createdAt.toISOString(),
      })),
    ),
  ];
}
