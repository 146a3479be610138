/** Starting an audience enrolment's workflow (for the outbox dispatcher). */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { ENROLMENT_WORKFLOW_TYPE, enrolmentTaskQueue, enrolmentWorkflowId, type AudienceEnrolmentInput } from '../../core/enrolment';
import type { Database } from '../../db/client';
import { enrolments } from '../../db/schema';
import { projectIdKey, workflowIdKey } from '../search-attributes';

/**
 * Starts the workflow of a RUNNING enrolment, once (its Temporal id is derived from the enrolment's),
 * on the enrolments' own task queue beside `taskQueue`.
 */
export async function startEnrolment(
  deps: { database: Database; client: Client; taskQueue: string; searchAttributes: boolean; bounded: <T>(call: () => Promise<T>) => Promise<T> },
  enrolmentId: string,
): Promise<void> {
  const [row] = await deps.database.db
    .select({ workflowId: enrolments.workflowId, projectId: enrolments.projectId, status: enrolments.status })
    .from(enrolments)
    .where(eq(enrolments.id, enrolmentId));
  // Gone with its workflow, or already stopped: nothing to run.
  if (row?.status !== 'RUNNING') return;
  const input: AudienceEnrolmentInput = { enrolmentId };
  try {
    await deps.bounded(() =>
      deps.client.workflow.start(ENROLMENT_WORKFLOW_TYPE, {
        taskQueue: enrolmentTaskQueue(deps.taskQueue),
        workflowId: enrolmentWorkflowId(enrolmentId),
        args: [input],
        ...(deps.searchAttributes
          ? {
              typedSearchAttributes: new TypedSearchAttributes([
                { key: workflowIdKey, value: row.workflowId },
                { key: projectIdKey, value: row.projectId },
              ]),
            }
          : {}),
      }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
