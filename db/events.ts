/** Storing an event: it enrols the contact in matching EVENT workflows and reaches executions waiting for it. */
import { and, asc, eq, gte, inArray, or, sql } from 'drizzle-orm';
import { enrolsAtDepth } from '../core/event-names';
import type { JsonObject, TrackedEventSignal } from '../core/execution';
import { exitReasonFor, type ExitOn } from '../core/graph';
import { ACTIVE_STATUSES } from '../core/statuses';
import type { Tx } from './client';
import { enrolContact } from './enrol';
import { exitExecutions } from './exits';
import { queueCommands } from './outbox';
import { contacts, events, executions, workflowVersions, workflows } from './schema';

export type EventRow = typeof events.$inferSelect;

/**
 * Records an event for a contact and, in the same transaction, queues its delivery to the contact's
 * executions waiting for that name now, then enrols the contact in every enabled EVENT workflow
 * triggered by it (deliveries first, so a new execution never receives the event that started it).
 * An event deeper than MAX_EVENT_DEPTH (`depth`, default 0) is stored and delivered but enrols nobody.
 */
export async function recordEvent(
  tx: Tx,
  input: {
    projectId: string;
    contactId: string;
    name: string;
    data: JsonObject;
    contactIsNew?: boolean;
    /** The caller holds the contact's row lock (FOR UPDATE) already. */
    contactLocked?: boolean;
    depth?: number;
  },
): Promise<{ event: EventRow; enrolled: string[]; skippedEnrolments?: 'depth' }> {
  const depth = input.depth ?? 0;
  // The contact's row lock (already held when the caller changed the contact) orders this event
  // with the start of a wait (activities' startWait takes it shared): a wait that starts first is
  // seen below; one that starts later finds this event committed.
  if (!input.contactIsNew && !input.contactLocked)
    await tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.id, input.contactId)).for('no key update');
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
            // Runs waiting for this name now, and runs for which it is a goal (at whatever step).
            or(and(eq(executions.status, 'WAITING'), eq(executions.waitingFor, input.name)), sql`${input.name} = any(${workflowVersions.exitEvents})`),
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
    waiting.map((w) => ({ kind: 'signal' as const, executionId: w.id, event: eventSignal(event!) })),
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

/** An event as a WAIT_FOR_EVENT receives it: with its record time, to the millisecond. */
function eventSignal(event: EventRow): TrackedEventSignal {
  return { eventId: event.id, name: event.name, data: event.data, recordedAt: event.createdAt.toISOString() };
}

/** The first event of `name` recorded on a contact after `since` (compared to the millisecond, as signals carry it). */
export async function firstEventSince(tx: Tx, q: { contactId: string; name: string; since: Date }): Promise<TrackedEventSignal | undefined> {
  const [event] = await tx
    .select()
    .from(events)
    .where(
      and(
        eq(events.contactId, q.contactId),
        eq(events.name, q.name),
        gte(events.createdAt, q.since),
        sql`date_trunc('milliseconds', ${events.createdAt}) > ${q.since.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(asc(events.createdAt), asc(events.id))
    .limit(1);
  return event ? eventSignal(event) : undefined;
}
