/** Queries about templates. */
import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from './client';
import { steps, workflows } from './schema';

/** Names of the project's workflows with a SEND_EMAIL step that sends the template, each once. */
export async function workflowsUsingTemplate(tx: Tx, projectId: string, templateId: string): Promise<string[]> {
  const users = await tx
    .select({ name: workflows.name })
    .from(steps)
    .innerJoin(workflows, eq(workflows.id, steps.workflowId))
    .where(and(eq(workflows.projectId, projectId), eq(steps.type, 'SEND_EMAIL'), sql`${steps.config}->>'templateId' = ${templateId}`));
  return [...new Set(users.map((u) => u.name))];
}
