/** Executions of a workflow (SPEC §5.5): manual start, history, cancel one, cancel all. */
import { and, asc, desc, eq } from 'drizzle-orm';
import { isTerminal } from '../../core/statuses';
import { cancelExecutions } from '../../db/cancel';
import { upsertContact, lockContact } from '../../db/contacts';
import { enrolContact } from '../../db/enrol';
import { executions, stepExecutions, workflows } from '../../db/schema';
import * as api from '../contracts/executions';
import type { ApiDeps } from '../deps';
import { ApiError, conflict, notFound } from '../errors';
import { listPage } from '../paging';
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
    const [wf] = await db
      .select()
      .from(workflows)
      .where(and(eq(workflows.id, id), eq(workflows.projectId, projectId)));
    if (!wf) throw notFound('workflow');
    return wf;
  }

  return [
    route(api.startExecution, async ({ project, params: { id }, body }) => {
      const execution = await db.transaction(async (tx) => {
        const contact = body.contactId ? await lockContact(tx, project.id, body.contactId) : (await upsertContact(tx, project.id, body.email!, {})).contact;
        if (!contact) throw notFound('contact');
        // Locks in the order every enrolment takes them: the contact, then the workflow (shared). An
        // answer other than 201 rolls back a contact the email created.
        const [workflow] = await tx
          .select()
          .from(workflows)
          .where(and(eq(workflows.id, id), eq(workflows.projectId, project.id)))
          .for('share');
        if (!workflow) throw notFound('workflow');
        if (!workflow.enabled) throw new ApiError(400, 'WORKFLOW_DISABLED', 'the workflow is disabled; enable it to start executions');
        const result = await enrolContact(tx, {
          workflow,
          contactId: contact.id,
          context: body.context ?? {},
          trigger: { type: 'MANUAL' },
        });
        if (!result.ok) {
          throw conflict(
            workflow.allowReentry
              ? 'the contact already has an active execution of this workflow'
              : 'the contact has already entered this workflow, which does not allow re-entry',
            'REENTRY_NOT_ALLOWED',
          );
        }
        return result.execution;
      });
      dispatcher.kick();
      return executionOut(execution);
    }),

    route(api.listExecutions, async ({ project, params, query: q }) => {
      const wf = await ownWorkflow(project.id, params.id);
      const where = and(
        eq(executions.workflowId, wf.id),
        q.status ? eq(executions.status, q.status) : undefined,
        q.contactId ? eq(executions.contactId, q.contactId) : undefined,
      );
      return listPage(db, executions, where, [desc(executions.startedAt), desc(executions.id)], q, executionOut);
    }),

    route(api.cancelAllExecutions, async ({ project, params }) => {
      const wf = await ownWorkflow(project.id, params.id);
      await requireTemporal();
      const cancelled = await db.transaction((tx) => cancelExecutions(tx, eq(executions.workflowId, wf.id)));
      dispatcher.kick();
      return { cancelled };
    }),

    route(api.getExecution, async ({ project, params: { id, executionId } }) => {
      const wf = await ownWorkflow(project.id, id);
      const [row] = await db
        .select()
        .from(executions)
        .where(and(eq(executions.id, executionId), eq(executions.workflowId, wf.id)));
      if (!row) throw notFound('execution');
      const history = await db.select().from(stepExecutions).where(eq(stepExecutions.executionId, row.id)).orderBy(asc(stepExecutions.seq));
      return { ...executionOut(row), steps: history.map(stepExecutionOut) };
    }),

    route(api.cancelExecution, async ({ project, params: { id, executionId } }) => {
      const wf = await ownWorkflow(project.id, id);
      const [existing] = await db
        .select()
        .from(executions)
        .where(and(eq(executions.id, executionId), eq(executions.workflowId, wf.id)));
      if (!existing) throw notFound('execution');
      if (isTerminal(existing.status)) throw conflict(`the execution has already finished (${existing.status})`);
      await requireTemporal();
      const row = await db.transaction(async (tx) => {
        const cancelled = await cancelExecutions(tx, eq(executions.id, executionId));
        const [after] = await tx.select().from(executions).where(eq(executions.id, executionId));
        if (cancelled === 0) throw conflict(`the execution has already finished (${after!.status})`);
        return after!;
      });
      dispatcher.kick();
      return executionOut(row);
    }),
  ];
}
