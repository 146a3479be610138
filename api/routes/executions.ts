/** Executions of a workflow (SPEC §5.5): manual start, history, cancel one, cancel all. */
import { Router } from 'express';
import { and, asc, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { emailAddress } from '../../core/email-address';
import { EXECUTION_STATUSES, isTerminal } from '../../core/statuses';
import { cancelExecutions } from '../../db/cancel';
import { upsertContact, lockContact } from '../../db/contacts';
import { enrolContact } from '../../db/enrol';
import { executions, stepExecutions, workflows } from '../../db/schema';
import { projectOf } from '../auth';
import type { ApiDeps } from '../deps';
import { listPage } from '../paging';
import { ApiError, conflict, notFound } from '../errors';
import { executionOut, stepExecutionOut } from '../serialize';
import { jsonObject, pagination, parse, pathId } from '../validate';

const startExecution = z
  .strictObject({
    contactId: z.uuid().optional(),
    email: emailAddress.optional(),
    context: jsonObject.optional(),
  })
  .refine((b) => (b.contactId === undefined) !== (b.email === undefined), { message: 'give exactly one of contactId or email' });
const listQuery = z.object({
  status: z.enum(EXECUTION_STATUSES).optional(),
  contactId: z.uuid().optional(),
  ...pagination,
});

export function executionRoutes({ database, dispatcher, temporal }: ApiDeps): Router {
  const router = Router();
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
    const [wf] = await db.select().from(workflows).where(and(eq(workflows.id, id), eq(workflows.projectId, projectId)));
    if (!wf) throw notFound('workflow');
    return wf;
  }

  router.post('/workflows/:id/executions', async (req, res) => {
    const project = projectOf(req);
    const id = pathId(req.params.id, 'workflow');
    const body = parse(startExecution, req.body);
    const execution = await db.transaction(async (tx) => {
      const contact = body.contactId
        ? await lockContact(tx, project.id, body.contactId)
        : (await upsertContact(tx, project.id, body.email!, {})).contact;
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
    res.status(201).json(executionOut(execution));
  });

  router.get('/workflows/:id/executions', async (req, res) => {
    const project = projectOf(req);
    const wf = await ownWorkflow(project.id, pathId(req.params.id, 'workflow'));
    const q = parse(listQuery, req.query, 'query');
    const where = and(
      eq(executions.workflowId, wf.id),
      q.status ? eq(executions.status, q.status) : undefined,
      q.contactId ? eq(executions.contactId, q.contactId) : undefined,
    );
    res.json(await listPage(db, executions, where, [desc(executions.startedAt), desc(executions.id)], q, executionOut));
  });

  router.post('/workflows/:id/executions/cancel-all', async (req, res) => {
    const project = projectOf(req);
    const wf = await ownWorkflow(project.id, pathId(req.params.id, 'workflow'));
    await requireTemporal();
    const cancelled = await db.transaction((tx) => cancelExecutions(tx, eq(executions.workflowId, wf.id)));
    dispatcher.kick();
    res.json({ cancelled });
  });

  router.get('/workflows/:id/executions/:executionId', async (req, res) => {
    const project = projectOf(req);
    const wf = await ownWorkflow(project.id, pathId(req.params.id, 'workflow'));
    const executionId = pathId(req.params.executionId, 'execution');
    const [row] = await db.select().from(executions).where(and(eq(executions.id, executionId), eq(executions.workflowId, wf.id)));
    if (!row) throw notFound('execution');
    const history = await db.select().from(stepExecutions).where(eq(stepExecutions.executionId, row.id)).orderBy(asc(stepExecutions.seq));
    res.json({ ...executionOut(row), steps: history.map(stepExecutionOut) });
  });

  router.delete('/workflows/:id/executions/:executionId', async (req, res) => {
    const project = projectOf(req);
    const wf = await ownWorkflow(project.id, pathId(req.params.id, 'workflow'));
    const executionId = pathId(req.params.executionId, 'execution');
    const [existing] = await db.select().from(executions).where(and(eq(executions.id, executionId), eq(executions.workflowId, wf.id)));
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
    res.json(executionOut(row));
  });

  return router;
}


