/** Enrolling a contact in a workflow: the re-entry rules, the pinned graph version, the Temporal start. */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { GraphSnapshot, GraphStep } from '../core/graph';
import { evaluateFilter, type Filter } from '../core/filter';
import { exitEventNames, FILTER_GOAL_REASON, openingWait, type ExitOn } from '../core/graph';
import type { JsonObject } from '../core/execution';
import { prepared, rowColumns, runPrepared, type Tx } from './client';
import { contactSubject, exitExecutions } from './exits';
import { markQueued, queueCommands } from './outbox';
import { contacts, executions, steps, transitions, workflowVersions, workflows } from './schema';

export type WorkflowRow = typeof workflows.$inferSelect;
export type ExecutionRow = typeof executions.$inferSelect;

export type EnrolResult = { ok: true; execution: ExecutionRow } | { ok: false; code: 'REENTRY_NOT_ALLOWED' };

/** Reads the live graph of a workflow. */
export async function loadGraph(tx: Tx, workflowId: string, version: number): Promise<GraphSnapshot> {
  const stepRows = await tx.select().from(steps).where(eq(steps.workflowId, workflowId)).orderBy(asc(steps.createdAt), asc(steps.id));
  const transitionRows = await tx
    .select()
    .from(transitions)
    .where(eq(transitions.workflowId, workflowId))
    .orderBy(asc(transitions.createdAt), asc(transitions.id));
  const [workflow] = await tx.select({ exitOn: workflows.exitOn }).from(workflows).where(eq(workflows.id, workflowId));
  return {
    workflowId,
    version,
    ...(workflow?.exitOn ? { exitOn: workflow.exitOn as ExitOn } : {}),
    // Every config was validated against its type's schema when it was written.
    steps: stepRows.map((s) => ({ id: s.id, type: s.type, name: s.name, config: s.config }) as GraphStep),
    transitions: transitionRows.map((t) => ({ id: t.id, fromStepId: t.fromStepId, toStepId: t.toStepId, branch: t.branch })),
  };
}

/**
 * Snapshots are immutable once written, so each process keeps the ones it has read: enrolment, the
 * hot path of /v1/track, then reads no graph. Bounded; the oldest is dropped first.
 */
const snapshots = new Map<string, GraphSnapshot>();
const SNAPSHOT_CACHE_SIZE = 1000;

/** The snapshot of the workflow's current version, taken at its first enrolment. */
async function currentSnapshot(tx: Tx, workflow: WorkflowRow): Promise<GraphSnapshot> {
  const key = `${workflow.id}:${workflow.version}`;
  const cached = snapshots.get(key);
  if (cached) return cached;
  const [existing] = await tx
    .select({
      graph: workflowVersions.graph,
      // Written by an earlier transaction (this one's rows carry its own now()): safe to remember,
      // since a row this transaction wrote is gone if it rolls back.
      committed: sql<boolean>`${workflowVersions.createdAt} < now()`,
    })
    .from(workflowVersions)
    .where(and(eq(workflowVersions.workflowId, workflow.id), eq(workflowVersions.version, workflow.version)));
  if (existing) {
    const graph = existing.graph as GraphSnapshot;
    if (existing.committed) {
      if (snapshots.size >= SNAPSHOT_CACHE_SIZE) snapshots.delete(snapshots.keys().next().value as string);
      snapshots.set(key, graph);
    }
    return graph;
  }
  const graph = await loadGraph(tx, workflow.id, workflow.version);
  // Two first enrolments may race: both snapshots are of the same locked version, either one stands.
  await tx
    .insert(workflowVersions)
    .values({ workflowId: workflow.id, version: workflow.version, graph, exitEvents: exitEventNames(graph.exitOn) })
    .onConflictDoNothing();
  return graph;
}

/**
 * Enrols a contact in a workflow under the re-entry rules of SPEC §7.3, in the caller's transaction:
 * the execution row, its TRIGGER record and the queued Temporal start commit together. The caller
 * holds the contact's row lock (so enrolments of one contact see each other) and a share lock on the
 * workflow's row (so no structural edit slips between the version read and the snapshot).
 */
export async function enrolContact(
  tx: Tx,
  input: { workflow: WorkflowRow; contactId: string; context: JsonObject; trigger: JsonObject; depth?: number },
): Promise<EnrolResult> {
  const { workflow } = input;
  if (!workflow.allowReentry) {
    const [earlier] = await tx
      .select({ id: executions.id })
      .from(executions)
      .where(and(eq(executions.workflowId, workflow.id), eq(executions.contactId, input.contactId)))
      .limit(1);
    if (earlier) return { ok: false, code: 'REENTRY_NOT_ALLOWED' };
  }
  const graph = await currentSnapshot(tx, workflow);
  const trigger = graph.steps.find((s) => s.type === 'TRIGGER');
  const wait = openingWait(graph);
  const values = [
    workflow.projectId,
    workflow.id,
    input.contactId,
    JSON.stringify(input.context),
    workflow.version,
    input.depth ?? 0,
    trigger?.id ?? null,
    trigger?.name ?? null,
    JSON.stringify(input.trigger),
    wait?.id ?? null,
    wait?.name ?? null,
    wait?.config.eventName ?? null,
  ];
  // Nearly every enrolment: the execution, its TRIGGER's record and its start command in one statement.
  if (!graph.exitOn?.filter) {
    const [execution] = await runPrepared<ExecutionRow>(tx, enrolAndQueueStart, values);
    if (!execution) return { ok: false, code: 'REENTRY_NOT_ALLOWED' };
    markQueued(tx);
    return { ok: true, execution };
  }
  // A goal filter may hold already: the execution first, then the start only if it does not.
  const [execution] = await runPrepared<ExecutionRow>(tx, enrol, values);
  if (!execution) return { ok: false, code: 'REENTRY_NOT_ALLOWED' };
  if (await matchesAtEnrolment(tx, input.contactId, graph.exitOn.filter)) {
    // Already at the goal (SPEC §14.3): EXITED at once, and no Temporal run to start.
    await exitExecutions(tx, [{ executionId: execution.id, reason: FILTER_GOAL_REASON }]);
    const [exited] = await tx.select().from(executions).where(eq(executions.id, execution.id));
    return { ok: true, execution: exited! };
  }
  await queueCommands(tx, [{ kind: 'start', executionId: execution.id }]);
  return { ok: true, execution };
}

/**
 * The rows enrolments write, as the parts of a statement's WITH: `enrolling` is a query naming for
 * each new execution of one contact its project_id, workflow_id, contact_id, context (jsonb),
 * workflow_version, depth, trigger_id and trigger_name (the TRIGGER step of the version's graph),
 * trigger_output (jsonb), and wait_id, wait_name and wait_event: the version's openingWait (its step
 * and the event it waits for), null when the graph does not begin with one. `execution` inserts each
 * RUNNING at its TRIGGER step — or, with an opening wait, WAITING in it, as the run's startWait would
 * leave it — none where the contact has an active run of the workflow already, and returns its row;
 * `trigger_record` records the TRIGGER COMPLETED as visit 0, `wait_record` the wait WAITING as visit
 * 1; with `queueStart`, `queued` queues each start for the dispatcher, which tells the run that its
 * wait is open (db/outbox.ts claim). One contact per statement: a workflow appears once in `enrolling`.
 *
 * The wait takes events recorded after its visit's start, to the millisecond (as signals carry
 * them): the insert's time, truncated. An event recorded in a later millisecond came after the
 * insert: in the same transaction, or in one that waited for the contact's row lock, which every
 * enrolment holds; either way it finds the execution waiting, and a signal is queued for it.
 */
export function enrolmentRows(enrolling: string, options: { queueStart: boolean }): string {
  return `enrolling as (${enrolling}),
   execution as (
     insert into executions (project_id, workflow_id, contact_id, status, context, workflow_version, depth, current_step_id, waiting_for)
     select project_id, workflow_id, contact_id, case when wait_id is null then 'RUNNING' else 'WAITING' end, context, workflow_version, depth,
       coalesce(wait_id, trigger_id), wait_event
       from enrolling
     on conflict (workflow_id, contact_id) where status in ('RUNNING', 'WAITING') do nothing
     returning *),
   trigger_record as (
     insert into step_executions (execution_id, seq, step_id, type, name, status, output, started_at, completed_at)
     select e.id, 0, n.trigger_id, 'TRIGGER', n.trigger_name, 'COMPLETED', n.trigger_output, e.started_at, e.started_at
       from execution e join enrolling n on n.workflow_id = e.workflow_id
      where n.trigger_id is not null),
   wait_record as (
     insert into step_executions (execution_id, seq, step_id, type, name, status, started_at)
     select e.id, 1, n.wait_id, 'WAIT_FOR_EVENT', n.wait_name, 'WAITING', date_trunc('milliseconds', clock_timestamp())
       from execution e join enrolling n on n.workflow_id = e.workflow_id
      where n.wait_id is not null)${
        options.queueStart
          ? `,
   queued as (insert into outbox (kind, execution_id) select 'start', id from execution)`
          : ''
      }`;
}

/**
 * One enrolment: project $1, workflow $2, contact $3, context $4, version $5, depth $6, its TRIGGER
 * step $7 named $8, recorded with output $9; the opening wait $10 named $11 waiting for $12.
 */
const ONE_ENROLMENT = `select $1::uuid as project_id, $2::uuid as workflow_id, $3::uuid as contact_id, $4::jsonb as context,
     $5::int as workflow_version, $6::int as depth, $7::uuid as trigger_id, $8::text as trigger_name, $9::jsonb as trigger_output,
     $10::uuid as wait_id, $11::text as wait_name, $12::text as wait_event`;
const enrol = prepared('enrol.execution', `with ${enrolmentRows(ONE_ENROLMENT, { queueStart: false })} select ${rowColumns(executions)} from execution`);
/** The same, with the execution's start queued for the dispatcher. */
const enrolAndQueueStart = prepared(
  'enrol.execution-and-start',
  `with ${enrolmentRows(ONE_ENROLMENT, { queueStart: true })} select ${rowColumns(executions)} from execution`,
);

async function matchesAtEnrolment(tx: Tx, contactId: string, filter: Filter): Promise<boolean> {
  const [contact] = await tx.select().from(contacts).where(eq(contacts.id, contactId));
  return contact !== undefined && evaluateFilter(filter, contactSubject(contact), Date.now());
}
