/** Executions of a workflow (SPEC §5.5): manual start, history, cancel one, cancel all. */
import { isTerminal } from '../../core/statuses';
import {
  cancelExecution,
  cancelWorkflowExecutions,
  executionPage,
  getProjectWorkflow,
  getWorkflowExecution,
  startManualExecution,
  stepHistory,
} from '../../db/executions';
import * as api from '../contracts/executions';
import type { ApiDeps } from '../deps';
import { ApiError, conflict, notFound } from '../errors';
import { pageOut } from '../paging';
import { route, type Route } from '../routing';
import { executionOut, stepExecutionOut } from '../serialize';

export function executionRoutes({ database, dispatcher, temporal }: ApiDeps): Route[] {
  const { db } = database;

  /** Cancels need Temporal now: answer 503 up front rather than promise a cancel it cannot deliver. */
  async function requireTemporal(): Promise<void> {
    try {
      await temporal.connection.withDeadline(Date.now() + 3000, () => temporal.workflowService.getSystemInfo({}));
    } catch {
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'Temporal is unreachable; try again');
    }
  }

  async function ownWorkflow(projectId: string, id: string) {
    const wf = await getProjectWorkflow(db, projectId, id);
    if (!wf) throw notFound('workflow');
    return wf;
  }

  return [
    route(api.startExecution, async ({ project, params: { id }, body }) => {
      // An answer other than 201 rolls back a contact the email created.
      const result = await startManualExecution(db, {
        projectId: project.id,
        workflowId: id,
        contactId: body.contactId,
        email: body.email,
        context: body.context ?? {},
      });
      if ('refused' in result) {
        if (result.refused === 'NO_CONTACT') throw notFound('contact');
        if (result.refused === 'NO_WORKFLOW') throw notFound('workflow');
        if (result.refused === 'WORKFLOW_DISABLED') throw new ApiError(400, 'WORKFLOW_DISABLED', 'the workflow is disabled; enable it to start executions');
        throw conflict(
          result.allowReentry
            ? 'the contact already has an active execution of this workflow'
            : 'the contact has already entered this workflow, which does not allow re-entry',
          'REENTRY_NOT_ALLOWED',
        );
      }
      const { execution } = result;
      dispatcher.kick();
      return executionOut(execution);
    }),

    route(api.listExecutions, async ({ project, params, query: q }) => {
      const wf = await ownWorkflow(project.id, params.id);
      return pageOut(await executionPage(db, wf.id, q), q, executionOut);
    }),

    route(api.cancelAllExecutions, async ({ project, params }) => {
      const wf = await ownWorkflow(project.id, params.id);
      await requireTemporal();
      const cancelled = await cancelWorkflowExecutions(db, wf.id);
      dispatcher.kick();
      return { cancelled };
    }),

    route(api.getExecution, async ({ project, params: { id, executionId } }) => {
      const wf = await ownWorkflow(project.id, id);
      const row = await getWorkflowExecution(db, wf.id, executionId);
      if (!row) throw notFound('execution');
      const history = await stepHistory(db, row.id);
      return { ...executionOut(row), steps: history.map(stepExecutionOut) };
    }),

    route(api.cancelExecution, async ({ project, params: { id, executionId } }) => {
      const wf = await ownWorkflow(project.id, id);
      const existing = await getWorkflowExecution(db, wf.id, executionId);
      if (!existing) throw notFound('execution');
      if (isTerminal(existing.status)) throw conflict(`the execution has already finished (${existing.status})`);
      await requireTemporal();
      const { cancelled, row } = await cancelExecution(db, executionId);
      if (!cancelled) throw conflict(`the execution has already finished (${row.status})`);
      dispatcher.kick();
      return executionOut(row);
    }),
  ];
}
