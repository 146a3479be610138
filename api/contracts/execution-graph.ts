/** The graph an execution runs on (SPEC §15: an execution's page shows the version it is pinned to). */
import { endpoint, pathParam } from '../endpoint';
import { ExecutionGraph } from '../schemas/execution-graph';

export const getExecutionGraph = endpoint({
  operationId: 'getExecutionGraph',
  method: 'get',
  path: '/workflows/:id/executions/:executionId/graph',
  auth: 'sk',
  tag: 'Executions',
  summary: 'Get the graph an execution runs on',
  description: 'The snapshot of the workflow version the execution is pinned to (`workflowVersion`), whatever the workflow looks like now.',
  params: { id: pathParam.id('workflow'), executionId: pathParam.id('execution') },
  responses: { 200: ExecutionGraph },
});
