/** Text messages (SPEC §14.2): GET /messages, newest first, with the exact total. */
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from './client';
import { type PageQuery, type RowPage, selectPage } from './paging';
import { messages } from './schema';

export type MessageRow = typeof messages.$inferSelect;

/** One page of a project's messages, of one contact and/or execution when given. */
export function messagePage(db: Db, projectId: string, q: PageQuery & { contactId?: string; executionId?: string }): Promise<RowPage<MessageRow>> {
  const where = and(
    eq(messages.projectId, projectId),
    q.contactId ? eq(messages.contactId, q.contactId) : undefined,
    q.executionId ? eq(messages.executionId, q.executionId) : undefined,
  );
  return selectPage(db, messages, where, [desc(messages.sentAt), desc(messages.id)], q);
}
