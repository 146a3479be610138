/** Reading workflows with their graph. */
import { asc, eq } from 'drizzle-orm';
import type { Tx } from './client';
import { steps, transitions, workflows } from './schema';

/** A workflow with its steps and transitions in creation order, or undefined. */
export async function loadWorkflowWithGraph(tx: Tx, id: string) {
  const [wf] = await tx.select().from(workflows).where(eq(workflows.id, id));
  if (!wf) return undefined;
  const stepRows = await tx.select().from(steps).where(eq(steps.workflowId, id)).orderBy(asc(steps.createdAt), asc(steps.id));
  const transitionRows = await tx.select().from(transitions).where(eq(transitions.workflowId, id)).orderBy(asc(transitions.createdAt), asc(transitions.id));
  return { workflow: wf, steps: stepRows, transitions: transitionRows };
}
