/** GET /workflows/:id/executions/:executionId/graph: the graph version an execution is pinned to. */
import { executionGraph } from '../../db/workflow-versions';
import * as api from '../contracts/execution-graph';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { route, type Route } from '../routing';

export function executionGraphRoutes({ database }: ApiDeps): Route[] {
  return [
    route(api.getExecutionGraph, async ({ project, params: { id, executionId } }) => {
      const graph = await executionGraph(database.db, project.id, id, executionId);
      if (!graph) throw notFound('execution');
      const { workflowId, version, steps, transitions, exitOn } = graph;
      return { workflowId, version, steps, transitions, ...(exitOn ? { exitOn } : {}) };
    }),
  ];
}
