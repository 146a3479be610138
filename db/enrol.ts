/** Enrolling a contact in a workflow: the re-entry rules, the pinned graph version, the Temporal start. */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { GraphSnapshot, GraphStep } from '../core/graph';
import { evaluateFilter, type Filter } from '../core/filter';
import { exitEventNames, FILTER_GOAL_REASON, type ExitOn } from '../core/graph';
import type { JsonObject } from '../core/execution';
import type { Tx } from './client';
import { contactSubject, exitExecutions } from './exits';
import { queueCommands } from './outbox';
import { contacts, executions, stepExecutions, steps, transitions, workflowVersions, workflows } from './schema';

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
  const [execution] = await tx
    .insert(executions)
    .values({
      projectId: workflow.projectId,
      workflowId: workflow.id,
      contactId: input.contactId,
      status: 'RUNNING',
      context: input.context,
      workflowVersion: workflow.version,
      depth: input.depth ?? 0,
      currentStepId: trigger?.id ?? null,
    })
    .onConflictDoNothing({
      target: [executions.workflowId, executions.contactId],
      where: sql`status in ('RUNNING', 'WAITING')`,
    })
    .returning();
  if (!execution) return { ok: false, code: 'REENTRY_NOT_ALLOWED' };

  if (trigger) {
    await tx.insert(stepExecutions).values({
      executionId: execution.id,
      seq: 0,
      stepId: trigger.id,
      type: 'TRIGGER',
      name: trigger.name,
      status: 'COMPLETED',
      output: input.trigger,
      startedAt: execution.startedAt,
      completedAt: execution.startedAt,
    });
  }
  if (graph.exitOn?.filter && (await matchesAtEnrolment(tx, input.contactId, graph.exitOn.filter))) {
    // Already at the goal (SPEC §14.3): EXITED at once, and no Temporal run to start.
    await exitExecutions(tx, [{ executionId: execution.id, reason: FILTER_GOAL_REASON }]);
    const [exited] = await tx.select().from(executions).where(eq(executions.id, execution.id));
    return { ok: true, execution: exited! };
  }
  await queueCommands(tx, [{ kind: 'start', executionId: execution.id }]);
  return { ok: true, execution };
}

async function matchesAtEnrolment(tx: Tx, contactId: string, filter: Filter): Promise<boolean> {
  const [contact] = await tx.select().from(contacts).where(eq(contacts.id, contactId));
  return contact !== undefined && evaluateFilter(filter, contactSubject(contact), Date.now());
}
