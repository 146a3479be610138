/** Client side of segment membership: starting a computation, and the installation's refresh Schedule. */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import {
  SEGMENT_COMPUTATION_WORKFLOW,
  SEGMENT_REFRESH_WORKFLOW,
  segmentComputationWorkflowId,
  segmentRefreshScheduleId,
  type RefreshCursor,
  type SegmentComputationInput,
} from '../core/segment';
import { projectIdKey } from './search-attributes';

/** How often time-relative segments (`within`, `olderThan`) are re-evaluated. */
export const SEGMENT_REFRESH_INTERVAL = '5 minutes';

/** Starts the computation of one generation of a segment; a second start of the same generation is a no-op. */
export async function startSegmentComputation(
  client: Client,
  options: { taskQueue: string; searchAttributes: boolean },
  input: SegmentComputationInput,
): Promise<void> {
  try {
    await client.workflow.start(SEGMENT_COMPUTATION_WORKFLOW, {
      taskQueue: options.taskQueue,
      workflowId: segmentComputationWorkflowId(input.segmentId, input.generation),
      args: [input],
      memo: { segmentId: input.segmentId, generation: input.generation },
      ...(options.searchAttributes ? { typedSearchAttributes: new TypedSearchAttributes([{ key: projectIdKey, value: input.projectId }]) } : {}),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Creates the installation's refresh Schedule unless it exists: every process with a worker calls
 * this at start, so several may race; the loser's "already running" is the expected outcome.
 * Overlapping runs are skipped, and runs missed while the server was down are not caught up.
 */
export async function ensureSegmentRefreshSchedule(client: Client, taskQueue: string): Promise<void> {
  const cursor: RefreshCursor = null;
  try {
    await client.schedule.create({
      scheduleId: segmentRefreshScheduleId(taskQueue),
      spec: { intervals: [{ every: SEGMENT_REFRESH_INTERVAL }] },
      action: {
        type: 'startWorkflow',
        workflowType: SEGMENT_REFRESH_WORKFLOW,
        workflowId: segmentRefreshScheduleId(taskQueue),
        taskQueue,
        args: [{ cursor }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      memo: { purpose: 're-evaluates segments whose filters are time-relative' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}
