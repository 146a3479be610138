/**
 * Deleting history in bounded batches: each call removes at most `limit` rows of one kind, in one
 * short transaction, oldest first, and skips rows another purge holds. Finished executions go with
 * their step history (cascade), their emails and the emails' clicks (cascade), and their dead letters.
 */
import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import { IDEMPOTENCY_TTL_HOURS, type PurgeScope } from '../core/retention';
import { TERMINAL_STATUSES, type ExecutionStatus } from '../core/statuses';
import type { Db } from './client';
import { queueCommands } from './outbox';
import { emails, events, executions, idempotencyKeys, messages, outboxDeadLetters, workflows } from './schema';

/** Finished executions (of one workflow, when given) with one of `statuses`, finished before `before`. */
export interface FinishedSelection {
  workflowId?: string;
  statuses?: readonly ExecutionStatus[];
  before: Date;
}

function finished(selection: FinishedSelection) {
  const statuses = (selection.statuses ?? TERMINAL_STATUSES).filter((s) => TERMINAL_STATUSES.includes(s));
  return and(
    selection.workflowId ? eq(executions.workflowId, selection.workflowId) : undefined,
    inArray(executions.status, statuses),
    lt(executions.completedAt, selection.before),
  );
}

/** Counts the selected executions, stopping at `atMost` (enough to tell one batch from more). */
export async function countFinished(db: Db, selection: FinishedSelection, atMost: number): Promise<number> {
  const { rows } = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from (${db.select({ id: executions.id }).from(executions).where(finished(selection)).limit(atMost)}) picked`,
  );
  return rows[0]?.n ?? 0;
}

/** Deletes up to `limit` selected executions with their history and emails; answers how many. */
export async function purgeExecutions(db: Db, selection: FinishedSelection, limit: number): Promise<number> {
  return db.transaction(async (tx) => {
    const picked = await tx
      .select({ id: executions.id })
      .from(executions)
      .where(finished(selection))
      .orderBy(asc(executions.completedAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (picked.length === 0) return 0;
    const ids = picked.map((p) => p.id);
    await tx.delete(emails).where(inArray(emails.executionId, ids));
    await tx.delete(messages).where(inArray(messages.executionId, ids));
    await tx.delete(outboxDeadLetters).where(inArray(outboxDeadLetters.executionId, ids));
    await tx.delete(executions).where(inArray(executions.id, ids));
    return ids.length;
  });
}

/** Deletes up to `limit` events recorded before `before`. */
export async function purgeEvents(db: Db, before: Date, limit: number): Promise<number> {
  const doomed = db.select({ id: events.id }).from(events).where(lt(events.createdAt, before)).orderBy(asc(events.createdAt)).limit(limit);
  const gone = await db.delete(events).where(inArray(events.id, doomed)).returning({ id: events.id });
  return gone.length;
}

/** Deletes up to `limit` emails sent before `before` that no active execution sent. */
export async function purgeEmails(db: Db, before: Date, limit: number): Promise<number> {
  const doomed = db
    .select({ id: emails.id })
    .from(emails)
    .leftJoin(executions, eq(executions.id, emails.executionId))
    .where(and(lt(emails.sentAt, before), sql`(${executions.id} is null or ${inArray(executions.status, TERMINAL_STATUSES)})`))
    .orderBy(asc(emails.sentAt))
    .limit(limit);
  const gone = await db.delete(emails).where(inArray(emails.id, doomed)).returning({ id: emails.id });
  return gone.length;
}

/** Deletes up to `limit` idempotency keys older than their 24 hours. */
export async function purgeExpiredIdempotencyKeys(db: Db, limit: number): Promise<number> {
  const expired = sql`now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`;
  const doomed = db
    .select({ projectId: idempotencyKeys.projectId, key: idempotencyKeys.key })
    .from(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, expired))
    .orderBy(asc(idempotencyKeys.createdAt))
    .limit(limit);
  const gone = await db
    .delete(idempotencyKeys)
    .where(sql`(${idempotencyKeys.projectId}, ${idempotencyKeys.key}) in (${doomed})`)
    .returning({ key: idempotencyKeys.key });
  return gone.length;
}

/** Whether the project has the workflow (a purge's 404). */
export async function projectHasWorkflow(db: Db, projectId: string, workflowId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: workflows.id })
    .from(workflows)
    .where(and(eq(workflows.id, workflowId), eq(workflows.projectId, projectId)));
  return row !== undefined;
}

/** Queues the background purge of a workflow's selected executions (the dispatcher starts it). */
export async function queueWorkflowPurge(
  db: Db,
  purge: { purgeId: string; projectId: string; workflowId: string; statuses: ExecutionStatus[]; before: Date },
): Promise<void> {
  const scope: PurgeScope = { kind: 'workflow', workflowId: purge.workflowId, statuses: purge.statuses, before: purge.before.toISOString() };
  await db.transaction((tx) => queueCommands(tx, [{ kind: 'purge', purgeId: purge.purgeId, projectId: purge.projectId, scope }]));
}
