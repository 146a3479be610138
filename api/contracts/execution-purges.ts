/** Purging a workflow's execution history (seed 004): finished executions with their steps and emails. */
import { z } from 'zod';
import { EXECUTION_STATUSES, TERMINAL_STATUSES } from '../../core/statuses';
import { endpoint, pathParam } from '../endpoint';
import { PurgeResult, PurgeStarted } from '../schemas/resources';

export const purgeExecutions = endpoint({
  operationId: 'purgeExecutions',
  method: 'delete',
  path: '/workflows/:id/executions',
  auth: 'sk',
  tag: 'Executions',
  summary: "Purge a workflow's finished executions",
  description:
    'Deletes the finished executions (COMPLETED, EXITED, FAILED, CANCELLED; or only `status`) that finished before `before` (default: now), with their step history and emails. Up to 1,000 are deleted at once (200); more are purged in the background in batches of 1,000 (202), by the Temporal workflow named in the answer. Active executions are never touched.',
  params: { id: pathParam.id('workflow') },
  query: z.object({
    status: z
      .enum(EXECUTION_STATUSES)
      .refine((s) => TERMINAL_STATUSES.includes(s), 'only finished executions are purged: COMPLETED, EXITED, FAILED or CANCELLED')
      .optional(),
    before: z.iso.datetime({ offset: true }).optional(),
  }),
  responses: { 200: PurgeResult, 202: PurgeStarted },
});
