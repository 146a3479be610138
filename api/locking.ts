/** SPEC §9: structural edits of an enabled workflow with active executions answer 409 WORKFLOW_LOCKED. */
import { and, count, eq, inArray, sql } from 'drizzle-orm';
import { ACTIVE_STATUSES } from '../core/statuses';
import type { Tx } from '../db/client';
import type { WorkflowRow } from '../db/enrol';
import { executions, workflows } from '../db/schema';
import { conflict, notFound } from './errors';

/** Number of RUNNING/WAITING executions of a workflow. */
export async function activeExecutions(tx: Tx, workflowId: string): Promise<number> {
  const [row] = await tx
    .select({ n: count() })
    .from(executions)
    .where(and(eq(executions.workflowId, workflowId), inArray(executions.status, [...ACTIVE_STATUSES])));
  return row!.n;
}

/** Locks a project's workflow row for an edit (enrolments hold it shared, so they wait for the edit). */
export async function lockWorkflow(tx: Tx, projectId: string, workflowId: string): Promise<WorkflowRow> {
  const [wf] = await tx
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, workflowId), eq(workflows.projectId, projectId)))
    .for('update');
  if (!wf) throw notFound('workflow');
  return wf;
}

/** Refuses a structural edit while the workflow is enabled and has active executions. */
export async function assertUnlocked(tx: Tx, wf: WorkflowRow): Promise<void> {
  if (!wf.enabled) return;
  const active = await activeExecutions(tx, wf.id);
  if (active === 0) return;
  throw conflict(
    `workflow is locked: it is enabled and has ${active} active execution(s); disable it (PATCH {"enabled": false}) or cancel them (POST /workflows/${wf.id}/executions/cancel-all) to edit its structure`,
    'WORKFLOW_LOCKED',
    { activeExecutions: active, unlock: ['disable the workflow', 'cancel all its executions'] },
  );
}

/** Locks the workflow for a structural edit, refuses it when locked, and counts the edit as a new version. */
export async function beginStructuralEdit(tx: Tx, projectId: string, workflowId: string): Promise<WorkflowRow> {
  const wf = await lockWorkflow(tx, projectId, workflowId);
  await assertUnlocked(tx, wf);
  const [updated] = await tx
    .update(workflows)
    .set({ version: sql`${workflows.version} + 1`, updatedAt: sql`now()` })
    .where(eq(workflows.id, wf.id))
    .returning();
  return updated!;
}
