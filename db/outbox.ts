/** Queuing Temporal commands in the same transaction as the change that causes them (an execution's, or a segment computation's start). */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { JsonObject, OpenedWait, TrackedEventSignal } from '../core/execution';
import type { PurgeScope } from '../core/retention';
import { ACTIVE_STATUSES } from '../core/statuses';
import { executionsFinishedTotal, outboxDeadLettersTotal } from '../telemetry/metrics';
import { onCommit, prepared, rowColumns, runPrepared, type Db, type Tx } from './client';
import { executions, outbox, outboxDeadLetters, stepExecutions } from './schema';

export type OutboxRow = typeof outbox.$inferSelect;

export type OutboxCommand =
  | { kind: 'start'; executionId: string }
  | { kind: 'signal'; executionId: string; event: TrackedEventSignal }
  | { kind: 'cancel'; executionId: string }
  /** Ends a started run whose own command failed for good (its execution is already FAILED). */
  | { kind: 'terminate'; executionId: string; reason: string }
  | { kind: 'compute-segment'; segmentId: string; projectId: string; generation: number }
  /** Starts an audience enrolment's workflow; the row's `execution_id` holds the enrolment's id. */
  | { kind: 'enrolment'; enrolmentId: string }
  /** Starts the background purge of a workflow's finished executions; `execution_id` holds the purge's id. */
  | { kind: 'purge'; purgeId: string; projectId: string; scope: PurgeScope };

/** The transactions (handles as passed to queueCommands) that queued at least one command. */
const queuedIn = new WeakSet<object>();

/** Whether `tx` queued a command: a route kicks the dispatcher after its commit only then. */
export function commandsQueued(tx: Tx): boolean {
  return queuedIn.has(tx);
}

/** Notes that a statement of the caller's own queued commands in `tx` (the dispatcher is kicked after the commit). */
export function markQueued(tx: Tx): void {
  queuedIn.add(tx);
}

/** Queues commands; the dispatcher carries them out once the transaction commits. */
export async function queueCommands(tx: Tx, commands: OutboxCommand[]): Promise<void> {
  if (commands.length === 0) return;
  queuedIn.add(tx);
  await tx.insert(outbox).values(
    commands.map((c) =>
      c.kind === 'compute-segment'
        ? // The column keys a queue whose commands run in order: here the segment's.
          { kind: c.kind, executionId: c.segmentId, payload: { projectId: c.projectId, generation: c.generation } }
        : { kind: c.kind, executionId: commandKey(c), payload: commandPayload(c) },
    ),
  );
}

/** The id that keys a command's queue: its execution's, or its enrolment's or purge's. */
function commandKey(c: Exclude<OutboxCommand, { kind: 'compute-segment' }>): string {
  if (c.kind === 'enrolment') return c.enrolmentId;
  if (c.kind === 'purge') return c.purgeId;
  return c.executionId;
}

function commandPayload(c: OutboxCommand): Record<string, unknown> {
  if (c.kind === 'signal') return { event: c.event };
  if (c.kind === 'purge') return { projectId: c.projectId, scope: c.scope };
  if (c.kind === 'terminate') return { reason: c.reason };
  return {};
}

/** Signals that a transaction queued already leased, for its process to send once it commits (queueLeasedSignals). */
const leasedIn = new WeakMap<object, ClaimedCommand[]>();

/** How long a signal leased by the transaction that queued it waits for a process that died before sending it. */
export const SEND_LEASE_SECONDS = 15;
/** The most deliveries one transaction leases to its process (as many as a dispatcher's pass claims). */
export const SEND_AT_ONCE = 200;

/**
 * Queues event deliveries leased to the caller's process: once `tx` commits, the process sends
 * them itself (leasedCommands, then the dispatcher's `send`), without waiting for a dispatcher to
 * claim them. A signal is leased only when it heads its execution's queue (no command of that
 * execution is queued before it), so one execution's commands still go one at a time, in order;
 * one behind another is left to the dispatcher, which is kicked after the commit. A process that
 * dies before sending leaves the lease to run out and a dispatcher to send it.
 */
export async function queueLeasedSignals(tx: Tx, signals: { executionId: string; event: TrackedEventSignal }[]): Promise<void> {
  if (signals.length === 0) return;
  // At most a dispatcher's batch goes out from the request at once; the rest, a dispatcher's.
  await queueCommands(
    tx,
    signals.slice(SEND_AT_ONCE).map((s) => ({ kind: 'signal' as const, executionId: s.executionId, event: s.event })),
  );
  const rows = await runPrepared<Omit<OutboxRow, 'id'> & { id: string }>(tx, insertLeasedSignals, [
    JSON.stringify(signals.slice(0, SEND_AT_ONCE).map((s) => ({ execution_id: s.executionId, payload: { event: s.event } }))),
    SEND_LEASE_SECONDS,
  ]);
  tookLeasedSignals(tx, rows);
}

/** Deliveries a statement inserted as queueLeasedSignals inserts them: the leased ones, and whether any was left to a dispatcher. */
export function splitLeased(rows: (Omit<OutboxRow, 'id'> & { id: string })[]): { leased: ClaimedCommand[]; queued: boolean } {
  const leased: ClaimedCommand[] = [];
  let queued = false;
  for (const row of rows) {
    if (row.lockedUntil === null) queued = true;
    else leased.push({ ...row, id: Number(row.id) });
  }
  return { leased, queued };
}

/**
 * Notes the deliveries a statement of `tx` inserted as queueLeasedSignals inserts them (LEASE_UNLESS_QUEUED):
 * the leased ones to send once it commits (leasedCommands), the others left to a dispatcher (commandsQueued).
 */
export function tookLeasedSignals(tx: Tx, rows: (Omit<OutboxRow, 'id'> & { id: string })[]): void {
  const { leased, queued } = splitLeased(rows);
  if (queued) queuedIn.add(tx);
  if (leased.length) leasedIn.set(tx, [...(leasedIn.get(tx) ?? []), ...leased]);
}

/** The signals `tx` queued leased to this process (queueLeasedSignals): to send once it has committed. */
export function leasedCommands(tx: Tx): ClaimedCommand[] {
  return leasedIn.get(tx) ?? [];
}

/**
 * A delivery's lease for the process that queues it (its `until`, to the millisecond, `lease`
 * seconds ahead), as a lateral subquery: no row where `condition` does not hold; the delivery then
 * waits for a dispatcher.
 */
export const LEASE_WHERE = (lease: string, condition: string) =>
  `select date_trunc('milliseconds', now() + make_interval(secs => ${lease}::int)) as until where ${condition}`;

/** LEASE_WHERE, and no lease when a command of its execution (`execution`) is queued already. */
export const LEASE_UNLESS_QUEUED = (execution: string, lease: string) =>
  LEASE_WHERE(lease, `not exists (select 1 from outbox o where o.execution_id = ${execution})`);

/**
 * The deliveries inserted in one statement, each leased (its `locked_until` the lease's token, to the
 * millisecond) unless a command of its execution is queued already. The contact's row lock, which
 * every transaction recording an event of the contact holds, orders two such inserts for one
 * execution: the second sees the first's row.
 */
const insertLeasedSignals = prepared(
  'outbox.insert-leased-signals',
  `insert into outbox (kind, execution_id, payload, locked_until, available_at)
   select 'signal', s.execution_id, s.payload, l.until, coalesce(l.until, now())
     from jsonb_to_recordset($1::jsonb) as s(execution_id uuid, payload jsonb)
     left join lateral (${LEASE_UNLESS_QUEUED('s.execution_id', '$2')}) l on true
   returning ${rowColumns(outbox)}`,
);

/**
 * Leases up to `batch` due commands, each the head of its execution's queue (so one execution's
 * commands are carried out one at a time, in order, whichever process claims them), and commits:
 * the caller talks to Temporal holding no lock and no connection. A lease that runs out (its
 * dispatcher died) makes the command due again. The scan walks the due index and probes each
 * row's predecessor by index, so it costs the batch, not the backlog. `locked_until` is the claim's
 * token (to the millisecond, as JavaScript reads it back).
 *
 * Cancels have a lane of their own, claimed beside the batch: at most `cancels.window` of them
 * await their runs at once. A cancel that Temporal accepted stays, marked requested
 * (markCancelsRequested), and holds its place until its run records the cancellation
 * (acknowledgeCancel), or for `cancels.holdSeconds` at most (its run's worker may be slow or gone);
 * once its lease runs out it is claimed again and dropped without a call (Temporal holds the
 * request). So a cancel-all hands Temporal its cancellations at the pace the workers take them,
 * instead of all at once into queues where they wait out the worker's sticky timeout and cost a
 * second dispatch each, and the starts and signals queued after it do not wait for it. Two
 * dispatchers claiming at the same moment may each fill the window: it paces, it does not lock.
 */
export async function claimCommands(db: Db, batch: number, leaseSeconds: number, cancels: { window: number; holdSeconds: number }): Promise<ClaimedCommand[]> {
  const rows = await runPrepared<ClaimedRow>(db, claim, [batch, leaseSeconds, cancels.window, cancels.holdSeconds]);
  return rows.map(({ id, start, ...row }) => ({ ...row, id: Number(id), start: start ?? undefined }));
}

/**
 * Cancels Temporal accepted: kept (leased) until their runs acknowledge them, then gone; those whose
 * runs are awake waiting for them (expediteCancel) are gone at once. Answers whether any was, that
 * is whether a place in the cancel window is free.
 */
export async function markCancelsRequested(db: Db, ids: number[]): Promise<boolean> {
  if (ids.length === 0) return false;
  const marked = await runPrepared(db, markRequested, [ids]);
  // Every one marked: none was awake (the usual case), no second round trip.
  if (marked.length === ids.length) return false;
  return (await runPrepared(db, dropAwake, [ids])).length > 0;
}

// Two statements, each seeing what the other committed (a row an expedite locked is re-read once it
// commits): a cancel marked both ways is dropped by whichever comes second.
const markRequested = prepared(
  'outbox.mark-cancels-requested',
  `update outbox set payload = payload || '{"requested": true}'::jsonb where id = any($1::bigint[]) and not payload @> '{"awake": true}'::jsonb returning id`,
);

const dropAwake = prepared('outbox.drop-awake-cancels', `delete from outbox where id = any($1::bigint[]) and payload @> '{"awake": true}'::jsonb returning id`);

/** Whether a claimed cancel was accepted by Temporal already (its lease ran out before its run acknowledged it). */
export function cancelRequested(row: OutboxRow): boolean {
  return (row.payload as { requested?: boolean }).requested === true;
}

/**
 * A run found its execution cancelled in Postgres and waits for Temporal's cancellation (a step it
 * woke to found the execution inactive): its cancel, if still queued, goes to the head of the
 * cancels' lane, ahead of a cancel-all's thousands paced by the window, for the run would otherwise
 * wait for their turn with a workflow task's worth of work done for nothing. The cancel is marked
 * awake: its run is in memory and takes it in its next workflow task, without recording it (it
 * found the cancellation recorded), so it holds no place in the window for an acknowledgement that
 * never comes. One Temporal accepted already is dropped now, one being sent once it is accepted
 * (markCancelsRequested). Answers whether the lane moved: a cancel was queued or a place is free.
 */
export async function expediteCancel(db: Db, executionId: string): Promise<boolean> {
  const [marked] = await runPrepared<{ queued: boolean; requested: boolean }>(db, expedite, [executionId]);
  if (marked?.requested) await runPrepared(db, dropRequested, [executionId]);
  return marked !== undefined && (marked.queued || marked.requested);
}

const expedite = prepared(
  'outbox.expedite-cancel',
  `with marked as (
     update outbox
        set payload = payload || '{"awake": true}'::jsonb,
            available_at = case when locked_until is null then '-infinity'::timestamptz else available_at end
      where execution_id = $1 and kind = 'cancel'
      returning locked_until is null as queued, payload @> '{"requested": true}'::jsonb as requested)
   select bool_or(queued) as queued, bool_or(requested) as requested from marked having count(*) > 0`,
);

const dropRequested = prepared(
  'outbox.drop-requested-cancels',
  `delete from outbox where execution_id = $1 and kind = 'cancel' and payload @> '{"requested": true}'::jsonb`,
);

/**
 * A cancelled run recorded its cancellation: its cancel commands are done (a cancel still queued
 * is moot). Answers whether there was one, that is whether a place in the cancel window is free.
 */
export async function acknowledgeCancel(db: Db, executionId: string): Promise<boolean> {
  const rows = await runPrepared(db, deleteCancels, [executionId]);
  return rows.length > 0;
}

const deleteCancels = prepared('outbox.acknowledge-cancel', `delete from outbox where execution_id = $1 and kind = 'cancel' returning id`);

/** A leased command. */
export interface ClaimedCommand extends OutboxRow {
  /** For a start: what starting the run needs (absent when its execution was erased meanwhile). */
  start?: StartData;
}

/**
 * An execution's start as the dispatcher makes it: its row, its workflow's name, its contact's
 * email, its pinned graph, and the wait enrolment opened (db/enrol.ts enrolmentRows), still open.
 */
export interface StartData {
  status: string;
  projectId: string;
  workflowId: string;
  contactId: string;
  context: JsonObject;
  workflowName: string;
  contactEmail: string;
  graph: unknown;
  openedWait: OpenedWait | null;
}

/** A claimed row as the driver reads it: the bigint id as text, no start data as null. */
type ClaimedRow = Omit<ClaimedCommand, 'id' | 'start'> & { id: string; start: StartData | null };

/**
 * The claim, in one statement: the due heads of their queues are leased, in two lanes (the cancels
 * up to the window's free places). Each lane's scan walks its due index and probes each row's
 * predecessor by index, so it costs the batch, not the backlog; `= any(array(…))` takes the
 * batch's ids first, then one primary-key look-up each, where an `in (…)` may be planned as a hash
 * join over the whole table. Each comes back, for a start, with the execution's data.
 */
const claim = prepared(
  'outbox.claim',
  `with claimed as (
     update outbox
        set locked_until = date_trunc('milliseconds', now() + make_interval(secs => $2::int)),
            available_at = date_trunc('milliseconds', now() + make_interval(secs => $2::int))
      where id = any(array(
        select o.id from outbox o
          where o.available_at <= now() and o.kind <> 'cancel'
            and not exists (select 1 from outbox earlier where earlier.execution_id = o.execution_id and earlier.id < o.id)
          order by o.available_at, o.id
          limit $1
            for update skip locked) || array(
        select o.id from outbox o
          where o.available_at <= now() and o.kind = 'cancel'
            and not exists (select 1 from outbox earlier where earlier.execution_id = o.execution_id and earlier.id < o.id)
          order by o.available_at, o.id
          -- The window's free places: a leased cancel's available_at is its lease's end, so one leased
          -- within the last $4 seconds has one beyond now() + ($2 - $4) seconds.
          limit greatest(0, $3::int - (
            select count(*) from outbox f
             where f.kind = 'cancel' and f.locked_until is not null and f.available_at > now() + make_interval(secs => $2::int - $4::int)))
            for update skip locked))
     returning *)
   select ${rowColumns(outbox, 'c')}, s.start
     from claimed c
     left join lateral (
       select jsonb_build_object(
                'status', e.status, 'projectId', e.project_id, 'workflowId', e.workflow_id, 'contactId', e.contact_id,
                'context', e.context, 'workflowName', w.name, 'contactEmail', ct.email, 'graph', v.graph,
                -- Visit 1 still WAITING in a WAIT_FOR_EVENT before the run started: enrolment opened it.
                'openedWait', (
                  select jsonb_build_object('stepId', r.step_id, 'startedAt', to_char(r.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                    from step_executions r
                   where r.execution_id = e.id and r.seq = 1 and r.type = 'WAIT_FOR_EVENT' and r.status = 'WAITING')) as start
         from executions e
         join workflows w on w.id = e.workflow_id
         join contacts ct on ct.id = e.contact_id
         join workflow_versions v on v.workflow_id = e.workflow_id and v.version = e.workflow_version
        where c.kind = 'start' and e.id = c.execution_id) s on true`,
);

/**
 * Removes commands that were carried out (or found moot), and answers whether a command of one of
 * their executions is queued behind them (due now that they are gone: the caller asks for a pass).
 * Their rows are locked in id order, as a cancel's delete of unstarted starts locks them
 * (db/cancel.ts): two deletes of the same rows then wait for each other instead of deadlocking.
 */
export async function completeCommands(db: Db, ids: number[]): Promise<{ followed: boolean }> {
  if (ids.length === 0) return { followed: false };
  const [row] = await runPrepared<{ followed: boolean }>(db, deleteInIdOrder, [ids]);
  return { followed: row?.followed === true };
}

/** The statement sees the outbox as it was before the delete: a follower is a later row of a deleted row's execution. */
const deleteInIdOrder = prepared(
  'outbox.delete-in-id-order',
  `with gone as (
     delete from outbox where id in (select id from outbox where id = any($1::bigint[]) order by id for update)
     returning id, execution_id)
   select exists (select 1 from gone join outbox later on later.execution_id = gone.execution_id and later.id > gone.id) as "followed"`,
);

/**
 * Puts a claimed command back for another try after `delaySeconds`; `counted` failures add to its
 * attempts. Ignored when another dispatcher has taken the command over since.
 */
export async function retryCommand(db: Db, row: OutboxRow, failure: { counted: boolean; delaySeconds: number; error: string }): Promise<void> {
  await db
    .update(outbox)
    .set({
      attempts: failure.counted ? row.attempts + 1 : row.attempts,
      availableAt: sql`now() + make_interval(secs => ${failure.delaySeconds})`,
      lockedUntil: null,
      lastError: failure.error.slice(0, 2000),
    })
    .where(and(eq(outbox.id, row.id), eq(outbox.lockedUntil, row.lockedUntil!)));
}

/**
 * Moves a command that can never succeed to the dead letters and, in the same transaction, marks its
 * execution FAILED with the reason (with its open step) while it is still active. Answers whether it
 * did; false when another dispatcher has taken the command over since.
 */
export async function deadLetterCommand(db: Db, row: OutboxRow, reason: string): Promise<{ moved: boolean; failedExecution: boolean }> {
  return db.transaction(async (tx) => {
    const [taken] = await tx
      .delete(outbox)
      .where(and(eq(outbox.id, row.id), eq(outbox.lockedUntil, row.lockedUntil!)))
      .returning();
    if (!taken) return { moved: false, failedExecution: false };
    await tx.insert(outboxDeadLetters).values({
      kind: taken.kind,
      executionId: taken.executionId,
      payload: taken.payload,
      attempts: taken.attempts + 1,
      error: reason,
      queuedAt: taken.createdAt,
    });
    onCommit(tx, () => outboxDeadLettersTotal.inc({ kind: taken.kind }));
    if (taken.kind !== 'start' && taken.kind !== 'signal') return { moved: true, failedExecution: false };
    const failed = await tx
      .update(executions)
      .set({ status: 'FAILED', error: reason, waitingFor: null, completedAt: sql`now()` })
      .where(and(eq(executions.id, taken.executionId), inArray(executions.status, [...ACTIVE_STATUSES])))
      .returning({ id: executions.id });
    if (failed.length === 0) return { moved: true, failedExecution: false };
    await tx
      .update(stepExecutions)
      .set({ status: 'FAILED', error: reason, completedAt: sql`now()` })
      .where(and(eq(stepExecutions.executionId, taken.executionId), inArray(stepExecutions.status, ['RUNNING', 'WAITING'])));
    // A run Temporal already holds must not go on for an execution the projection shows FAILED.
    if (taken.kind === 'signal') await queueCommands(tx, [{ kind: 'terminate', executionId: taken.executionId, reason }]);
    onCommit(tx, () => executionsFinishedTotal.inc({ status: 'FAILED' }));
    return { moved: true, failedExecution: true };
  });
}

/** Counted exactly up to this many rows; beyond it the planner's estimate stands in (a scrape stays cheap). */
const EXACT_DEPTH_LIMIT = 100_000;

/** The outbox's depth and the age of its oldest command (by id: the primary key orders insertion). */
export async function outboxBacklog(db: Db): Promise<{ depth: number; oldestSeconds: number }> {
  const result = await db.execute(sql`
    select
      (select count(*) from (select 1 from ${outbox} limit ${EXACT_DEPTH_LIMIT + 1}) capped)::int as exact,
      (select reltuples from pg_class where oid = 'outbox'::regclass)::float8 as estimate,
      coalesce(extract(epoch from now() - (select ${outbox.createdAt} from ${outbox} order by ${outbox.id} limit 1)), 0)::float8 as oldest`);
  const row = result.rows[0] as { exact: number; estimate: number; oldest: number };
  const depth = row.exact > EXACT_DEPTH_LIMIT ? Math.max(row.exact, Math.round(row.estimate)) : row.exact;
  return { depth, oldestSeconds: Math.max(0, row.oldest) };
}
