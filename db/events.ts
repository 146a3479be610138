/** Storing an event: it enrols the contact in matching EVENT workflows and reaches executions waiting for it. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { enrolsAtDepth } from '../core/event-names';
import type { JsonObject } from '../core/execution';
import { exitReasonFor, type ExitOn } from '../core/graph';
import { ACTIVE_STATUSES } from '../core/statuses';
import type { Tx } from './client';
import { enrolContact } from './enrol';
import { exitExecutions } from './exits';
import { queueCommands } from './outbox';
import { events, executions, workflowVersions, workflows } from './schema';

export type EventRow = typeof events.$inferSelect;

/**
 * Records an event for a contact and, in the same transaction, queues its delivery to the contact's
 * executions whose graph waits for that name, then enrols the contact in every enabled EVENT workflow
 * triggered by it (deliveries first, so a new execution never receives the event that started it).
 * An event deeper than MAX_EVENT_DEPTH (`depth`, default 0) is stored and delivered but enrols nobody.
 */
export async function recordEvent(
  tx: Tx,
  input: { projectId: string; contactId: string; name: string; data: JsonObject; contactIsNew?: boolean; depth?: number },
): Promise<{ event: EventRow; enrolled: string[]; skippedEnrolments?: 'depth' }> {
  const depth = input.depth ?? 0;
  const [event] = await tx
    .insert(events)
    // clock_timestamp(), not the transaction's now(): events recorded by one transaction keep their order.
    .values({ projectId: input.projectId, contactId: input.contactId, name: input.name, data: input.data, depth, createdAt: sql`clock_timestamp()` })
    .returning();

  // A contact created by this transaction has no executions to deliver to.
  const waiting = input.contactIsNew
    ? []
    : await tx
        .select({ id: executions.id, exitOn: sql<ExitOn | null>`${workflowVersions.graph}->'exitOn'` })
        .from(executions)
        .innerJoin(workflowVersions, and(eq(workflowVersions.workflowId, executions.workflowId), eq(workflowVersions.version, executions.workflowVersion)))
        .where(
          and(
            eq(executions.contactId, input.contactId),
            inArray(executions.status, [...ACTIVE_STATUSES]),
            sql`(${input.name} = any(${workflowVersions.waitEvents}) or ${input.name} = any(${workflowVersions.exitEvents}))`,
          ),
        );
  // Goals reached: EXITED now, in this transaction; the signal below ends the Temporal run.
  await exitExecutions(
    tx,
    waiting.flatMap((w) => {
      const reason = exitReasonFor(w.exitOn ?? undefined, input.name);
      return reason ? [{ executionId: w.id, reason }] : [];
    }),
  );
  await queueCommands(
    tx,
    waiting.map((w) => ({
      kind: 'signal' as const,
      executionId: w.id,
      event: { eventId: event!.id, name: input.name, data: input.data },
    })),
  );

  if (!enrolsAtDepth(depth)) return { event: event!, enrolled: [], skippedEnrolments: 'depth' };
  const triggered = await tx
    .select()
    .from(workflows)
    .where(
      and(eq(workflows.projectId, input.projectId), eq(workflows.triggerType, 'EVENT'), eq(workflows.triggerEvent, input.name), eq(workflows.enabled, true)),
    )
    .orderBy(workflows.id)
    .for('share');
  const enrolled: string[] = [];
  for (const workflow of triggered) {
    const result = await enrolContact(tx, {
      workflow,
      contactId: input.contactId,
      context: input.data,
      trigger: { type: 'EVENT', event: input.name, eventId: event!.id },
      depth,
    });
    if (result.ok) enrolled.push(result.execution.id);
  }
  return { event: event!, enrolled };
}
