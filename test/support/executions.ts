/** Waiting on executions through the public API (with the typed client), as most integration tests do. */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { expect } from 'vitest';
import { temporalWorkflowId } from '../../core/execution';
import { TERMINAL_STATUSES } from '../../core/statuses';
import { waitFor, type Api } from './harness';

/**
 * Waits until the execution's Temporal run has taken its first workflow task. A run whose graph
 * begins with a WAIT_FOR_EVENT is WAITING from its enrolment on, before the dispatcher has started
 * it: a test that then acts on the run in Temporal (signals, terminates or describes it) waits for
 * this first.
 */
export async function runStarted(client: Client, executionId: string): Promise<void> {
  await waitFor(async () => {
    try {
      const history = await client.workflow.getHandle(temporalWorkflowId(executionId)).fetchHistory();
      return history.events?.some((e) => e.workflowTaskCompletedEventAttributes) ? true : undefined;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }, `the Temporal run of ${executionId} to take its first task`);
}

/** The only execution of a workflow (for one contact, when given), once it exists. */
export async function onlyExecution(api: Api, workflowId: string, contactId?: string): Promise<any> {
  const [execution] = await waitFor(async () => {
    const list = await api.client.listExecutions({ params: { id: workflowId }, query: { contactId } });
    return list.total === 1 ? list.data : undefined;
  }, 'the execution');
  return execution;
}

/** An execution with its step history, once its status is one of `statuses`. */
export function executionIn(api: Api, workflowId: string, executionId: string, statuses: readonly string[], timeoutMs?: number): Promise<any> {
  return waitFor(
    async () => {
      const execution = await api.client.getExecution({ params: { id: workflowId, executionId } });
      return statuses.includes(execution.status) ? execution : undefined;
    },
    `execution ${executionId} ${statuses.join('/')}`,
    timeoutMs,
  );
}

/** An execution with its step history, once it has finished (whichever way). */
export function finishedExecution(api: Api, workflowId: string, executionId: string, timeoutMs?: number): Promise<any> {
  return executionIn(api, workflowId, executionId, TERMINAL_STATUSES, timeoutMs);
}

/** The only execution of a workflow (for one contact, when given), once its status is one of `statuses`. */
export async function onlyExecutionIn(
  api: Api,
  workflowId: string,
  contactId: string | undefined,
  statuses: readonly string[],
  timeoutMs?: number,
): Promise<any> {
  const execution = await onlyExecution(api, workflowId, contactId);
  return executionIn(api, workflowId, execution.id, statuses, timeoutMs);
}

/** The only execution of a workflow (for one contact, when given), once it has finished. */
export function onlyFinished(api: Api, workflowId: string, contactId?: string, timeoutMs?: number): Promise<any> {
  return onlyExecutionIn(api, workflowId, contactId, TERMINAL_STATUSES, timeoutMs);
}

/** Tracks `event` for `email` and returns the execution it started in the workflow, once finished. */
export async function trackToEnd(api: Api, workflowId: string, event: string, email: string, data?: Record<string, unknown>, timeoutMs?: number): Promise<any> {
  const tracked = await api.post('/v1/track', { event, email, ...(data ? { data } : {}) });
  expect(tracked.status).toBe(200);
  return onlyFinished(api, workflowId, tracked.body.data.contact, timeoutMs);
}
