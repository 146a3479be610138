/** Read-only lists: GET /events and GET /emails. */
import { and, desc, eq } from 'drizzle-orm';
import { emails, events } from '../../db/schema';
import * as api from '../contracts/records';
import type { ApiDeps } from '../deps';
import { listPage } from '../paging';
import { route, type Route } from '../routing';
import { emailOut, eventOut } from '../serialize';

export function recordRoutes({ database }: ApiDeps): Route[] {
  const { db } = database;
  return [
    route(api.listEvents, async ({ project, query: q }) => {
      const where = and(
        eq(events.projectId, project.id),
        q.contactId ? eq(events.contactId, q.contactId) : undefined,
        q.name ? eq(events.name, q.name) : undefined,
      );
      return listPage(db, events, where, [desc(events.createdAt), desc(events.id)], q, eventOut);
    }),

    route(api.listEmails, async ({ project, query: q }) => {
      const where = and(
        eq(emails.projectId, project.id),
        q.contactId ? eq(emails.contactId, q.contactId) : undefined,
        q.executionId ? eq(emails.executionId, q.executionId) : undefined,
      );
      return listPage(db, emails, where, [desc(emails.sentAt), desc(emails.id)], q, emailOut);
    }),
  ];
}
