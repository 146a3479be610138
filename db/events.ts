/** Storing an event: it enrols the contact in matching EVENT workflows and reaches executions waiting for it. */
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import { enrolsAtDepth } from '../core/event-names';
import type { JsonObject, TrackedEventSignal } from '../core/execution';
import { exitReasonFor, type ExitOn } from '../core/graph';
import { type Db, prefixedRow, prepared, rowColumns, runPrepared, type Tx } from './client';
import { enrolContact } from './enrol';
import { exitExecutions } from './exits';
import {
  type ClaimedCommand,
  LEASE_WHERE,
  type OutboxRow,
  queueCommands,
  queueLeasedSignals,
  SEND_AT_ONCE,
  SEND_LEASE_SECONDS,
  splitLeased,
  tookLeasedSignals,
} from './outbox';
import { contacts, events, outbox, workflows } from './schema';

export type EventRow = typeof events.$inferSelect;
type WorkflowRow = typeof workflows.$inferSelect;

// Every event runs these: prepared (db/client.ts).
/** Inserts the event (project $1, contact $2, name $3, data $4, depth $5). */
const INSERT_EVENT =
  // clock_timestamp(), not the transaction's now(): events recorded by one transaction keep their order.
  `insert into events (project_id, contact_id, name, data, depth, created_at) values ($1, $2, $3, $4::jsonb, $5, clock_timestamp())
   returning ${rowColumns(events)}`;
/** The enabled EVENT workflows of a project ($1) triggered by the name in parameter `name`, locked against a concurrent change of their trigger. */
export const triggeredBy = (name: string) =>
  `select ${rowColumns(workflows)} from workflows
   where project_id = $1 and trigger_type = 'EVENT' and trigger_event = ${name} and enabled
   order by id for share`;

/**
 * A contact's (parameter `contact`) active runs that an event of a name (`name`) reaches: waiting for
 * the name now, or with it as a goal (at whatever step); each as `id`, `exitOn` (its pinned exit
 * conditions), `goal` and `queued` (a command of the run is in the outbox already). Read by the
 * database's trellis_runs_reached (migration 0019) with a snapshot of its own, taken when it is
 * called: after the contact's row lock, when the contact is an earlier part of the same statement.
 */
const reachedBy = (contact: string, name: string) => `select * from trellis_runs_reached(${contact}, ${name})`;

const insertEvent = prepared('events.insert', INSERT_EVENT);
const workflowsTriggered = prepared('events.workflows-triggered', triggeredBy('$2'));
/** The runs the event reaches (reachedBy, contact $2, name $3), as JSON. */
const REACHED_JSON = `(select coalesce(json_agg(r), '[]'::json) from (${reachedBy('$2', '$3')}) r) as reached`;
/** The workflows the event triggers (triggeredBy, name $3), read and locked as workflowsTriggered does, as JSON. */
const TRIGGERED_JSON = `(select coalesce(json_agg(w order by w.id), '[]'::json) from (${triggeredBy('$3')}) w) as triggered`;

/**
 * For a contact that existed before (its row locked by the caller): the event inserted, and the
 * contact's active runs it reaches (waiting for its name now, or with it as a goal), in one round
 * trip. Only a read follows the insert, so no lock is taken in another order than before.
 */
const insertEventThenReached = prepared('events.insert-then-reached', `with event as (${INSERT_EVENT}) select event.*, ${REACHED_JSON} from event`);

/**
 * The same, and the workflows the event triggers read and locked as workflowsTriggered does, in one
 * round trip: the workflows' locks are taken after the insert, as when they are read on their own.
 */
const insertEventThenReachedAndTriggered = prepared(
  'events.insert-then-reached-and-triggered',
  `with event as (${INSERT_EVENT}) select event.*, ${REACHED_JSON}, ${TRIGGERED_JSON} from event`,
);

/**
 * For a contact created by this transaction (no executions to reach): the event inserted, and the
 * workflows it triggers read and locked as workflowsTriggered does, in one round trip.
 */
const insertEventThenTriggered = prepared('events.insert-then-triggered', `with event as (${INSERT_EVENT}) select event.*, ${TRIGGERED_JSON} from event`);
/**
 * The event's deliveries to the runs in `reached` (reachedBy's rows), inserted as queueLeasedSignals
 * inserts them: the first SEND_AT_ONCE leased for `lease` seconds unless a command of their run is
 * queued already (LEASE_WHERE), each carrying the event as eventSignal gives it: its record time to
 * the millisecond, as JavaScript reads it back.
 */
const DELIVERED = (lease: string) => `delivered as (
   insert into outbox (kind, execution_id, payload, locked_until, available_at)
   select 'signal', r.id,
     jsonb_build_object('event', jsonb_build_object('eventId', event.id, 'name', event.name, 'data', event.data,
       'recordedAt', to_char(event."createdAt" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
     l.until, coalesce(l.until, now())
   from (select id, queued, row_number() over (order by id) as n from reached) r cross join event
   left join lateral (${LEASE_WHERE(lease, `r.n <= ${SEND_AT_ONCE} and not r.queued`)}) l on true
   returning *)`;

/**
 * insertEventThenReachedAndTriggered for /v1/track, which sends the deliveries itself: the same, and
 * the deliveries queued by the same statement (DELIVERED), one row each (`o.`-prefixed columns, null
 * when there are none) beside the event's: one round trip fewer than queueing them after. The runs
 * reached are read once, for the deliveries and the answer alike.
 */
const insertEventDelivering = prepared(
  'events.insert-then-reached-and-triggered-delivering',
  `with event as (${INSERT_EVENT}), reached as (${reachedBy('$2', '$3')}), ${DELIVERED('$6')}
   select event.*, (select coalesce(json_agg(r), '[]'::json) from reached r) as reached, ${TRIGGERED_JSON}, ${rowColumns(outbox, 'd', 'o.')}
   from event left join delivered d on true`,
);

/**
 * /v1/track's event of an existing contact that changes nothing else, in one statement (no BEGIN,
 * no COMMIT): the contact's row locked by email (project $1, email $2) as every event's recording
 * locks it, the runs the event (name $3, data $4) reaches read after the lock (reachedBy, whose own
 * snapshot sees a wait opened while the statement waited for the lock), and, when the event has no
 * other consequence (no run has it as a goal, no enabled EVENT workflow is triggered by it), the
 * event inserted and its deliveries queued, the first leased for $5 seconds (DELIVERED). One row
 * with the contact's id and nothing else when the contact exists but the event has consequences (it
 * then stored nothing), a null id when the contact does not exist; otherwise a row per delivery, or
 * one without, beside the event's columns.
 */
const insertQuietEvent = prepared(
  'events.insert-quiet-for-existing-contact',
  `with contact as (select id from contacts where project_id = $1 and email = $2 for no key update),
   reached as (select r.* from contact c cross join lateral (${reachedBy('c.id', '$3')}) r),
   quiet as (
     select c.id from contact c
     where not exists (select 1 from reached where goal)
       and not exists (select 1 from workflows where project_id = $1 and trigger_type = 'EVENT' and trigger_event = $3 and enabled)),
   event as (
     insert into events (project_id, contact_id, name, data, depth, created_at)
     select $1, quiet.id, $3, $4::jsonb, 0, clock_timestamp() from quiet
     returning ${rowColumns(events)}),
   ${DELIVERED('$5')}
   select (select id from contact) as "contactId", event.*, ${rowColumns(outbox, 'd', 'o.')}
   from (select) one left join event on true left join delivered d on true`,
);

/** What recordQuietEvent did: stored the event (and queued its deliveries), or nothing because the contact does not exist or the event has consequences. */
export type QuietEventResult =
  | { stored: true; contactId: string; event: EventRow; leased: ClaimedCommand[]; queued: boolean }
  | { stored: false; reason: 'no-contact' | 'consequences' };

/**
 * Records an event of an existing contact that changes nothing about the contact and has no
 * consequence but its deliveries to the runs waiting for it, by one statement (insertQuietEvent).
 * The outcome is what upsertContact + recordEvent with `sendSignals` store in that case; otherwise
 * nothing is written and the caller takes the transaction that does everything. The deliveries it
 * leased are the caller's to send.
 */
export async function recordQuietEvent(db: Db, input: { projectId: string; email: string; name: string; data: JsonObject }): Promise<QuietEventResult> {
  const rows = await runPrepared<Record<string, unknown>>(db, insertQuietEvent, [
    input.projectId,
    input.email,
    input.name,
    JSON.stringify(input.data),
    SEND_LEASE_SECONDS,
  ]);
  const first = rows[0]!;
  if (first.contactId === null) return { stored: false, reason: 'no-contact' };
  if (first.id === null) return { stored: false, reason: 'consequences' };
  const event = Object.fromEntries(Object.entries(first).filter(([key]) => !key.startsWith('o.') && key !== 'contactId')) as EventRow;
  const deliveries = rows.filter((r) => r['o.id'] !== null).map((r) => prefixedRow<Omit<OutboxRow, 'id'> & { id: string }>(r, 'o.'));
  return { stored: true, contactId: first.contactId as string, event, ...splitLeased(deliveries) };
}

/** A triggered workflow as a statement reads it into JSON. */
export type WorkflowJson = Omit<WorkflowRow, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };
type Reached = { id: string; exitOn: ExitOn | null };
const workflowRow = (w: WorkflowJson): WorkflowRow => ({ ...w, createdAt: new Date(w.createdAt), updatedAt: new Date(w.updatedAt) });

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
    /** The caller holds the contact's row lock (FOR UPDATE or FOR NO KEY UPDATE) already. */
    contactLocked?: boolean;
    depth?: number;
    /** The caller sends the deliveries itself once the transaction commits (queueLeasedSignals). */
    sendSignals?: boolean;
  },
): Promise<{ event: EventRow; enrolled: string[]; skippedEnrolments?: 'depth' }> {
  const depth = input.depth ?? 0;
  // The contact's row lock (already held when the caller changed the contact) orders this event
  // with the start of a wait (activities' startWait takes it shared): a wait that starts first is
  // seen below; one that starts later finds this event committed.
  if (!input.contactIsNew && !input.contactLocked)
    await tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.id, input.contactId)).for('no key update');
  const values = [input.projectId, input.contactId, input.name, JSON.stringify(input.data), depth];
  let event: EventRow;
  let triggeredWithIt: WorkflowRow[] | undefined;
  // A contact created by this transaction has no executions to deliver to.
  let waiting: Reached[] = [];
  // Deliveries queued by the event's own statement (the API's, which sends them itself).
  let delivered = false;
  if (!input.contactIsNew && input.sendSignals && enrolsAtDepth(depth)) {
    const rows = await runPrepared<EventRow & { reached: Reached[]; triggered: WorkflowJson[] } & Record<string, unknown>>(tx, insertEventDelivering, [
      ...values,
      SEND_LEASE_SECONDS,
    ]);
    const { reached, triggered, ...rest } = rows[0]!;
    event = Object.fromEntries(Object.entries(rest).filter(([key]) => !key.startsWith('o.'))) as EventRow;
    waiting = reached;
    triggeredWithIt = triggered.map(workflowRow);
    tookLeasedSignals(
      tx,
      rows.filter((r) => r['o.id'] !== null).map((r) => prefixedRow<Omit<OutboxRow, 'id'> & { id: string }>(r, 'o.')),
    );
    delivered = true;
  } else if (!input.contactIsNew && enrolsAtDepth(depth)) {
    const [row] = await runPrepared<EventRow & { reached: Reached[]; triggered: WorkflowJson[] }>(tx, insertEventThenReachedAndTriggered, values);
    const { reached, triggered, ...inserted } = row!;
    event = inserted;
    waiting = reached;
    triggeredWithIt = triggered.map(workflowRow);
  } else if (!input.contactIsNew) {
    const [row] = await runPrepared<EventRow & { reached: Reached[] }>(tx, insertEventThenReached, values);
    const { reached, ...inserted } = row!;
    event = inserted;
    waiting = reached;
  } else if (enrolsAtDepth(depth)) {
    const [row] = await runPrepared<EventRow & { triggered: WorkflowJson[] }>(tx, insertEventThenTriggered, values);
    const { triggered, ...inserted } = row!;
    event = inserted;
    triggeredWithIt = triggered.map(workflowRow);
  } else {
    [event] = (await runPrepared<EventRow>(tx, insertEvent, values)) as [EventRow];
  }
  // Goals reached: EXITED now, in this transaction; the signal below ends the Temporal run.
  await exitExecutions(
    tx,
    waiting.flatMap((w) => {
      const reason = exitReasonFor(w.exitOn ?? undefined, input.name);
      return reason ? [{ executionId: w.id, reason }] : [];
    }),
  );
  // The API's deliveries to the runs of a contact that existed before went with the event's statement.
  if (!delivered) {
    const deliveries = waiting.map((w) => ({ kind: 'signal' as const, executionId: w.id, event: eventSignal(event) }));
    if (input.sendSignals) await queueLeasedSignals(tx, deliveries);
    else await queueCommands(tx, deliveries);
  }

  if (!enrolsAtDepth(depth)) return { event, enrolled: [], skippedEnrolments: 'depth' };
  const triggered = triggeredWithIt ?? (await runPrepared<WorkflowRow>(tx, workflowsTriggered, [input.projectId, input.name]));
  return { event, enrolled: await enrolTriggered(tx, { ...input, depth }, event, triggered) };
}

/**
 * The end of recording a new contact's event that the statement creating the contact stored, with
 * the workflows it triggers (read and locked as recordEvent reads them): a new contact has no runs
 * to reach, so what is left is enrolling it.
 */
export async function enrolForNewContactEvent(
  tx: Tx,
  input: { contactId: string; name: string; data: JsonObject },
  event: EventRow,
  triggered: WorkflowJson[],
): Promise<string[]> {
  return enrolTriggered(tx, { ...input, depth: 0 }, event, triggered.map(workflowRow));
}

/** Enrols the event's contact in each workflow it triggers; the executions started. */
async function enrolTriggered(
  tx: Tx,
  input: { contactId: string; name: string; data: JsonObject; depth: number },
  event: EventRow,
  triggered: WorkflowRow[],
): Promise<string[]> {
  const enrolled: string[] = [];
  for (const workflow of triggered) {
    const result = await enrolContact(tx, {
      workflow,
      contactId: input.contactId,
      context: input.data,
      trigger: { type: 'EVENT', event: input.name, eventId: event.id },
      depth: input.depth,
    });
    if (result.ok) enrolled.push(result.execution.id);
  }
  return enrolled;
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
