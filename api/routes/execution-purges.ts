/** DELETE /workflows/:id/executions: a workflow's finished executions purged at once, or in the background. */
import { randomUUID } from 'node:crypto';
import { PURGE_BATCH, purgeWorkflowId } from '../../core/retention';
import { TERMINAL_STATUSES } from '../../core/statuses';
import { countFinished, projectHasWorkflow, purgeExecutions, queueWorkflowPurge } from '../../db/purge';
import * as api from '../contracts/execution-purges';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { reply, route, type Route } from '../routing';

export function executionPurgeRoutes({ database, dispatcher }: ApiDeps): Route[] {
  const { db } = database;
  return [
    route(api.purgeExecutions, async ({ project, params: { id }, query }) => {
      if (!(await projectHasWorkflow(db, project.id, id))) throw notFound('workflow');
      const selection = {
        workflowId: id,
        statuses: query.status ? [query.status] : [...TERMINAL_STATUSES],
        before: query.before ? new Date(query.before) : new Date(),
      };
      if ((await countFinished(db, selection, PURGE_BATCH + 1)) <= PURGE_BATCH) return { purged: await purgeExecutions(db, selection, PURGE_BATCH) };
      // Durable when answered: the purge is queued, and the dispatcher starts its workflow.
      const purgeId = randomUUID();
      await queueWorkflowPurge(db, { purgeId, projectId: project.id, ...selection });
      dispatcher.kick();
      return reply(202, { purgeId, temporalWorkflowId: purgeWorkflowId(purgeId) });
    }),
  ];
}
