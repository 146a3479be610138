/** Client side of history purges: a workflow's purge (for the outbox dispatcher) and the retention Schedule. */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { PURGE_WORKFLOW_TYPE, purgeWorkflowId, RETENTION_INTERVAL, retentionScheduleId, type PurgeInput } from '../core/retention';
import { projectIdKey, workflowIdKey } from './search-attributes';

/** Starts the purge `purgeId` of one workflow's finished executions; a second start is a no-op. */
export async function startWorkflowPurge(
  client: Client,
  options: { taskQueue: string; searchAttributes: boolean },
  purgeId: string,
  input: PurgeInput & { projectId: string },
): Promise<void> {
  const { projectId, ...args } = input;
  const workflowId = args.scope.kind === 'workflow' ? args.scope.workflowId : undefined;
  try {
    await client.workflow.start(PURGE_WORKFLOW_TYPE, {
      taskQueue: options.taskQueue,
      workflowId: purgeWorkflowId(purgeId),
      args: [args],
      ...(options.searchAttributes && workflowId
        ? {
            typedSearchAttributes: new TypedSearchAttributes([
              { key: workflowIdKey, value: workflowId },
              { key: projectIdKey, value: projectId },
            ]),
          }
        : {}),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Keeps the installation's retention Schedule, its run in step with RETENTION_DAYS (which may be
 * unset: the run then only forgets expired idempotency keys). Every process with a worker calls this
 * at start, so several may race; the loser updates what the winner created.
 */
export async function syncRetentionSchedule(client: Client, taskQueue: string, days: number | undefined): Promise<void> {
  const scheduleId = retentionScheduleId(taskQueue);
  const handle = client.schedule.getHandle(scheduleId);
  const input: PurgeInput = { scope: days === undefined ? { kind: 'retention' } : { kind: 'retention', days } };
  const action = { type: 'startWorkflow' as const, workflowType: PURGE_WORKFLOW_TYPE, workflowId: scheduleId, taskQueue, args: [input] };
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: RETENTION_INTERVAL }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      memo: { purpose: 'forgets expired idempotency keys, and purges history older than RETENTION_DAYS' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((previous) => ({ ...previous, action }));
  }
}
