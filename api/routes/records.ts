/** Read-only lists: GET /events and GET /emails. */
import { emailPage, eventPage } from '../../db/records';
import * as api from '../contracts/records';
import type { ApiDeps } from '../deps';
import { pageOut } from '../paging';
import { route, type Route } from '../routing';
import { emailOut, eventOut } from '../serialize';

export function recordRoutes({ database }: ApiDeps): Route[] {
  const { db } = database;
  return [
    route(api.listEvents, async ({ project, query: q }) => pageOut(await eventPage(db, project.id, q), q, eventOut)),
    route(api.listEmails, async ({ project, query: q }) => pageOut(await emailPage(db, project.id, q), q, emailOut)),
  ];
}
