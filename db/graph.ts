/** Step and transition writes of the graph editing routes; each runs in the caller's transaction. */
import { and, eq, inArray } from 'drizzle-orm';
import type { Tx } from './client';
import { steps, templates, transitions } from './schema';

export type StepRow = typeof steps.$inferSelect;
export type TransitionRow = typeof transitions.$inferSelect;

/** Whether the project has the template, locked (shared) so it cannot be deleted until `tx` commits. */
export async function shareTemplate(tx: Tx, projectId: string, templateId: string): Promise<boolean> {
  const [t] = await tx
    .select({ id: templates.id })
    .from(templates)
    .where(and(eq(templates.id, templateId), eq(templates.projectId, projectId)))
    .for('share');
  return t !== undefined;
}

/** A step of a workflow, or undefined. */
export async function findStep(tx: Tx, workflowId: string, stepId: string): Promise<StepRow | undefined> {
  const [s] = await tx
    .select()
    .from(steps)
    .where(and(eq(steps.id, stepId), eq(steps.workflowId, workflowId)));
  return s;
}

/** Inserts a step. */
export async function insertStep(tx: Tx, values: typeof steps.$inferInsert): Promise<StepRow> {
  const [s] = await tx.insert(steps).values(values).returning();
  return s!;
}

/** Sets a step's name, position or config. */
export async function updateStep(tx: Tx, stepId: string, changes: Partial<Pick<StepRow, 'name' | 'position' | 'config'>>): Promise<StepRow> {
  const [s] = await tx.update(steps).set(changes).where(eq(steps.id, stepId)).returning();
  return s!;
}

/** Deletes a step (its transitions go with it); first, when splicing, replaces transitions as `plan` says. */
export async function deleteStep(
  tx: Tx,
  workflowId: string,
  stepId: string,
  plan?: { removeTransitionIds: string[]; addTransitions: { fromStepId: string; toStepId: string; branch: string | null }[] },
): Promise<void> {
  if (plan?.removeTransitionIds.length) await tx.delete(transitions).where(inArray(transitions.id, plan.removeTransitionIds));
  if (plan?.addTransitions.length) {
    await tx.insert(transitions).values(plan.addTransitions.map((t) => ({ workflowId, fromStepId: t.fromStepId, toStepId: t.toStepId, branch: t.branch })));
  }
  await tx.delete(steps).where(eq(steps.id, stepId));
}

/** Inserts a transition. */
export async function insertTransition(
  tx: Tx,
  workflowId: string,
  draft: { fromStepId: string; toStepId: string; branch: string | null },
): Promise<TransitionRow> {
  const [t] = await tx
    .insert(transitions)
    .values({ workflowId, ...draft })
    .returning();
  return t!;
}

/** Deletes a transition of a workflow; false when there is none. */
export async function deleteTransition(tx: Tx, workflowId: string, transitionId: string): Promise<boolean> {
  const deleted = await tx
    .delete(transitions)
    .where(and(eq(transitions.id, transitionId), eq(transitions.workflowId, workflowId)))
    .returning({ id: transitions.id });
  return deleted.length > 0;
}
