/** The graph snapshots executions run on (workflow_versions). */
import { and, eq } from 'drizzle-orm';
import type { GraphSnapshot } from '../core/graph';
import type { Tx } from './client';
import { executions, workflowVersions } from './schema';

/** The graph one execution of a project is pinned to, or null for an unknown execution (or one without a snapshot). */
export async function executionGraph(tx: Tx, projectId: string, workflowId: string, executionId: string): Promise<GraphSnapshot | null> {
  const [row] = await tx
    .select({ graph: workflowVersions.graph })
    .from(executions)
    .innerJoin(workflowVersions, and(eq(workflowVersions.workflowId, executions.workflowId), eq(workflowVersions.version, executions.workflowVersion)))
    .where(and(eq(executions.id, executionId), eq(executions.workflowId, workflowId), eq(executions.projectId, projectId)));
  return row ? (row.graph as GraphSnapshot) : null;
}
