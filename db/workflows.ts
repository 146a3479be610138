/** Reading workflows with their graph. */
import { and, asc, eq } from 'drizzle-orm';
import type { Db, Tx } from './client';
import type { WorkflowRow } from './enrol';
import { workflowStats } from './workflow-stats';
import { exportWorkflow, stepRowsOf } from './workflow-document';
import { steps, transitions, workflows } from './schema';

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
