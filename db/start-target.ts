/** Which workflows a START_WORKFLOW step may name (SPEC §14.2): another workflow of the same project. */
import { and, eq, inArray } from 'drizzle-orm';
import type { Tx } from './client';
import { workflows } from './schema';

/** Why `targetId` cannot be started by a step of workflow `selfId` (undefined: a new workflow), or null. */
export async function startTargetProblem(tx: Tx, projectId: string, selfId: string | undefined, targetId: string): Promise<string | null> {
  if (targetId === selfId) return 'a workflow cannot start itself';
  const missing = await unknownWorkflowIds(tx, projectId, [targetId]);
  return missing.size ? 'no such workflow in this project' : null;
}

/** The ids among `ids` that name no workflow of the project. */
export async function unknownWorkflowIds(tx: Tx, projectId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await tx
    .select({ id: workflows.id })
    .from(workflows)
    .where(and(eq(workflows.projectId, projectId), inArray(workflows.id, ids)));
  const known = new Set(found.map((w) => w.id));
  return new Set(ids.filter((id) => !known.has(id)));
}
