/** Text messages (SPEC §14.2): GET /messages, newest first, with the exact total. */
import { and, count, desc, eq } from 'drizzle-orm';
import type { Db } from './client';
import { messages } from './schema';

export type MessageRow = typeof messages.$inferSelect;

/** One page of a project's messages, of one contact and/or execution when given. */
export async function listMessages(
  db: Db,
  projectId: string,
  filter: { contactId?: string; executionId?: string },
  page: { page: number; pageSize: number },
): Promise<{ rows: MessageRow[]; total: number }> {
  const where = and(
    eq(messages.projectId, projectId),
    filter.contactId ? eq(messages.contactId, filter.contactId) : undefined,
    filter.executionId ? eq(messages.executionId, filter.executionId) : undefined,
  );
  const [[total], rows] = await Promise.all([
    db.select({ n: count() }).from(messages).where(where),
    db
      .select()
      .from(messages)
      .where(where)
      .orderBy(desc(messages.sentAt), desc(messages.id))
      .limit(page.pageSize)
      .offset((page.page - 1) * page.pageSize),
  ]);
  return { rows, total: total!.n };
}
