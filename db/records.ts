/** Read-only lists of what happened: a project's events and emails, newest first. */
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from './client';
import { type PageQuery, type RowPage, selectPage } from './paging';
import { emails, events } from './schema';

/** A page of a project's events, of one contact and/or name when given. */
export function eventPage(db: Db, projectId: string, q: PageQuery & { contactId?: string; name?: string }): Promise<RowPage<typeof events.$inferSelect>> {
  const where = and(eq(events.projectId, projectId), q.contactId ? eq(events.contactId, q.contactId) : undefined, q.name ? eq(events.name, q.name) : undefined);
  return selectPage(db, events, where, [desc(events.createdAt), desc(events.id)], q);
}

/** A page of a project's emails, of one contact and/or execution when given. */
export function emailPage(
  db: Db,
  projectId: string,
  q: PageQuery & { contactId?: string; executionId?: string },
): Promise<RowPage<typeof emails.$inferSelect>> {
  const where = and(
    eq(emails.projectId, projectId),
    q.contactId ? eq(emails.contactId, q.contactId) : undefined,
    q.executionId ? eq(emails.executionId, q.executionId) : undefined,
  );
  return selectPage(db, emails, where, [desc(emails.sentAt), desc(emails.id)], q);
}
