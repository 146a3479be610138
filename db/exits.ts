/** Exit conditions (SPEC §14.3): ending active executions as EXITED in the transaction that reached their goal. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { evaluateFilter, type Filter, type FilterSubject } from '../core/filter';
import { FILTER_GOAL_REASON, FILTER_GOAL_SIGNAL } from '../core/graph';
import { ACTIVE_STATUSES } from '../core/statuses';
import { executionsFinishedTotal } from '../telemetry/metrics';
import { onCommit, prepared, runPrepared, type Tx } from './client';
import { ACTIVE } from './journal';
import { queueCommands } from './outbox';
import { type contacts, executions, stepExecutions } from './schema';

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

/** An active execution whose pinned graph has an exit filter, with the filter. */
export type FilterGoal = { id: string; filter: Filter };

/** A contact's (parameter `contact`) active executions `e` with their pinned versions `v`, for prepared statements to select from. */
const ACTIVE_RUNS_OF = (contact: string) =>
  `executions e join workflow_versions v on v.workflow_id = e.workflow_id and v.version = e.workflow_version
   where e.contact_id = ${contact} and e.status in (${ACTIVE})`;

/** The active executions of a contact (parameter `contact`) with an exit filter: a FilterGoal each. */
export const FILTER_GOALS_OF = (contact: string) =>
  `select e.id, v.graph->'exitOn'->'filter' as filter from ${ACTIVE_RUNS_OF(contact)} and v.graph->'exitOn'->'filter' is not null`;

const filterGoalsOf = prepared('exits.filter-goals-of', FILTER_GOALS_OF('$1'));

/**
 * After a contact changed (in the caller's transaction, which holds its row lock): ends each of its
 * active executions whose pinned graph has an `exitOn.filter` the contact now matches, and queues
 * the signal that ends its Temporal run. One query on the contact's executions (none when the
 * caller read them with its change: `goals`); the filters are evaluated here with the segments' and
 * CONDITION's evaluator.
 */
export async function exitOnFilterMatch(tx: Tx, contactId: string, subject: FilterSubject, goals?: FilterGoal[]): Promise<string[]> {
  const rows = goals ?? (await runPrepared<FilterGoal>(tx, filterGoalsOf, [contactId]));
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
