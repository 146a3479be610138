/** Exit conditions (SPEC §14.3): ending active executions as EXITED in the transaction that reached their goal. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { evaluateFilter, type Filter, type FilterSubject } from '../core/filter';
import { FILTER_GOAL_REASON, FILTER_GOAL_SIGNAL } from '../core/graph';
import { ACTIVE_STATUSES } from '../core/statuses';
import { executionsFinishedTotal } from '../telemetry/metrics';
import { onCommit, type Tx } from './client';
import { queueCommands } from './outbox';
import { type contacts, executions, stepExecutions, workflowVersions } from './schema';

type ContactRow = typeof contacts.$inferSelect;

/**
 * Records each execution EXITED with its reason and its open step CANCELLED, only while it is still
 * active. Every activity with a side effect checks that first, so no later step runs even before the
 * workflow hears of it (the caller queues the signal that ends the Temporal run).
 */
export async function exitExecutions(tx: Tx, exits: { executionId: string; reason: string }[]): Promise<void> {
  for (const { executionId, reason } of exits) {
    const ended = await tx
      .update(executions)
      .set({ status: 'EXITED', exitReason: reason, completedAt: sql`now()` })
      .where(and(eq(executions.id, executionId), inArray(executions.status, [...ACTIVE_STATUSES])))
      .returning({ id: executions.id });
    if (ended.length === 0) continue;
    await tx
      .update(stepExecutions)
      .set({ status: 'CANCELLED', completedAt: sql`now()` })
      .where(and(eq(stepExecutions.executionId, executionId), inArray(stepExecutions.status, ['RUNNING', 'WAITING'])));
    onCommit(tx, () => executionsFinishedTotal.inc({ status: 'EXITED' }));
  }
}

/** What a contact-only filter (a segment's, an exit goal's) sees of a contact: no execution context. */
export function contactSubject(contact: Pick<ContactRow, 'email' | 'subscribed' | 'createdAt' | 'data' | 'tags'>): FilterSubject {
  return {
    contact: { email: contact.email, subscribed: contact.subscribed, createdAt: contact.createdAt.toISOString(), data: contact.data, tags: contact.tags },
    event: {},
  };
}

/**
 * After a contact changed (in the caller's transaction, which holds its row lock): ends each of its
 * active executions whose pinned graph has an `exitOn.filter` the contact now matches, and queues
 * the signal that ends its Temporal run. One query on the contact's executions; the filters are
 * evaluated here with the segments' and CONDITION's evaluator.
 */
export async function exitOnFilterMatch(tx: Tx, contactId: string, subject: FilterSubject): Promise<string[]> {
  const rows = await tx
    .select({ id: executions.id, filter: sql<Filter>`${workflowVersions.graph}->'exitOn'->'filter'` })
    .from(executions)
    .innerJoin(workflowVersions, and(eq(workflowVersions.workflowId, executions.workflowId), eq(workflowVersions.version, executions.workflowVersion)))
    .where(
      and(
        eq(executions.contactId, contactId),
        inArray(executions.status, [...ACTIVE_STATUSES]),
        sql`${workflowVersions.graph}->'exitOn'->'filter' is not null`,
      ),
    );
  if (rows.length === 0) return [];
  const now = Date.now();
  const reached = rows.filter((r) => evaluateFilter(r.filter, subject, now)).map((r) => r.id);
  await exitExecutions(
    tx,
    reached.map((executionId) => ({ executionId, reason: FILTER_GOAL_REASON })),
  );
  const recordedAt = new Date(now).toISOString();
  await queueCommands(
    tx,
    reached.map((executionId) => ({ kind: 'signal' as const, executionId, event: { eventId: executionId, name: FILTER_GOAL_SIGNAL, data: {}, recordedAt } })),
  );
  return reached;
}
