/** Reading workflows with their graph. */
import { and, asc, desc, eq, ilike, sql } from 'drizzle-orm';
import type { Db, Tx } from './client';
import type { WorkflowRow } from './enrol';
import { workflowStats } from './workflow-stats';
import { exportWorkflow, stepRowsOf } from './workflow-document';
import { TRIGGER_KEY } from '../core/workflow-document';
import { selectPage, type PageQuery, type RowPage } from './paging';
import { executions, steps, transitions, workflows } from './schema';
import { likePattern } from './search';

/** A workflow with its steps and transitions in creation order, or undefined. */
export async function loadWorkflowWithGraph(tx: Tx, id: string) {
  const [wf] = await tx.select().from(workflows).where(eq(workflows.id, id));
  if (!wf) return undefined;
  const stepRows = await tx.select().from(steps).where(eq(steps.workflowId, id)).orderBy(asc(steps.createdAt), asc(steps.id));
  const transitionRows = await tx.select().from(transitions).where(eq(transitions.workflowId, id)).orderBy(asc(transitions.createdAt), asc(transitions.id));
  return { workflow: wf, steps: stepRows, transitions: transitionRows };
}

/** A workflow of a project, read without a lock, or undefined. */
export async function getProjectWorkflow(tx: Tx, projectId: string, workflowId: string): Promise<WorkflowRow | undefined> {
  const [wf] = await tx
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, workflowId), eq(workflows.projectId, projectId)));
  return wf;
}

/** A workflow of a project with its steps, transitions and their counts, read in one snapshot; undefined when there is none. */
export function workflowWithStepStats(db: Db, projectId: string, id: string) {
  return db.transaction(
    async (tx) => {
      const wf = await getProjectWorkflow(tx, projectId, id);
      if (!wf) return undefined;
      const stepRows = await stepRowsOf(tx, wf.id);
      const edges = await tx.select().from(transitions).where(eq(transitions.workflowId, wf.id)).orderBy(asc(transitions.createdAt), asc(transitions.id));
      return { wf, stepRows, edges, stats: await workflowStats(tx, wf.id, stepRows) };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/** The document of a project's workflow (GET /workflows/:id/export), read in one snapshot; undefined when there is none. */
export function exportProjectWorkflow(db: Db, projectId: string, id: string) {
  return db.transaction(async (tx) => ((await getProjectWorkflow(tx, projectId, id)) ? exportWorkflow(tx, id) : undefined), {
    isolationLevel: 'repeatable read',
    accessMode: 'read only',
  });
}

/** Inserts a workflow with its TRIGGER step. */
export async function insertWorkflow(tx: Tx, values: typeof workflows.$inferInsert): Promise<WorkflowRow> {
  const [wf] = await tx.insert(workflows).values(values).returning();
  await tx.insert(steps).values({ workflowId: wf!.id, key: TRIGGER_KEY, type: 'TRIGGER', name: 'Trigger', config: {} });
  return wf!;
}

/** A page of a project's workflows, newest first: archived ones only when asked for, and then alone. */
export function workflowPage(
  db: Db,
  projectId: string,
  q: PageQuery & { search?: string; enabled?: 'true' | 'false'; archived?: 'true' | 'false' },
): Promise<RowPage<WorkflowRow>> {
  const where = and(
    eq(workflows.projectId, projectId),
    q.search ? ilike(workflows.name, likePattern(q.search)) : undefined,
    q.enabled ? eq(workflows.enabled, q.enabled === 'true') : undefined,
    eq(workflows.archived, q.archived === 'true'),
  );
  return selectPage(db, workflows, where, [desc(workflows.createdAt), desc(workflows.id)], q);
}

/** Whether the workflow has ever had an execution. */
export async function hasExecutions(tx: Tx, workflowId: string): Promise<boolean> {
  const [any] = await tx.select({ id: executions.id }).from(executions).where(eq(executions.workflowId, workflowId)).limit(1);
  return any !== undefined;
}

/** Sets a workflow's fields (and `updatedAt`); `bumpVersion` starts a new version of its graph. */
export async function updateWorkflowRow(
  tx: Tx,
  workflowId: string,
  changes: Partial<typeof workflows.$inferInsert>,
  bumpVersion: boolean,
): Promise<WorkflowRow> {
  const [updated] = await tx
    .update(workflows)
    .set({ ...changes, ...(bumpVersion ? { version: sql`${workflows.version} + 1` } : {}), updatedAt: sql`now()` })
    .where(eq(workflows.id, workflowId))
    .returning();
  return updated!;
}

/** Deletes a workflow (its graph goes with it). */
export async function deleteWorkflowRow(tx: Tx, workflowId: string): Promise<void> {
  await tx.delete(workflows).where(eq(workflows.id, workflowId));
}

/** Copies a workflow as a disabled "(copy)" with the same graph under new ids; answers the copy's id. */
export async function duplicateWorkflow(tx: Tx, wf: WorkflowRow): Promise<string> {
  const [copy] = await tx
    .insert(workflows)
    .values({
      projectId: wf.projectId,
      name: `${wf.name} (copy)`,
      description: wf.description,
      triggerType: wf.triggerType,
      triggerConfig: wf.triggerConfig,
      triggerEvent: wf.triggerEvent,
      allowReentry: wf.allowReentry,
      enabled: false,
    })
    .returning();
  const stepRows = await tx.select().from(steps).where(eq(steps.workflowId, wf.id)).orderBy(asc(steps.createdAt), asc(steps.id));
  const ids = new Map<string, string>();
  for (const s of stepRows) {
    const [n] = await tx
      .insert(steps)
      // clock_timestamp(): the copy's steps keep the original's order.
      .values({ workflowId: copy!.id, key: s.key, type: s.type, name: s.name, config: s.config, position: s.position, createdAt: sql`clock_timestamp()` })
      .returning({ id: steps.id });
    ids.set(s.id, n!.id);
  }
  const transitionRows = await tx.select().from(transitions).where(eq(transitions.workflowId, wf.id)).orderBy(asc(transitions.createdAt), asc(transitions.id));
  if (transitionRows.length) {
    await tx
      .insert(transitions)
      .values(transitionRows.map((t) => ({ workflowId: copy!.id, fromStepId: ids.get(t.fromStepId)!, toStepId: ids.get(t.toStepId)!, branch: t.branch })));
  }
  return copy!.id;
}
