/** Executions as the API reads, starts and cancels them. */
import { and, asc, desc, eq } from 'drizzle-orm';
import type { JsonObject } from '../core/execution';
import type { ExecutionStatus } from '../core/statuses';
import { cancelExecutions } from './cancel';
import { type Db, retryingDeadlocks } from './client';
import { lockContact, upsertContact } from './contacts';
import { enrolContact, type ExecutionRow } from './enrol';
import { selectPage, type PageQuery, type RowPage } from './paging';
import { executions, stepExecutions, workflows } from './schema';

export { getProjectWorkflow } from './workflows';

/** Why a manual start was refused; `allowReentry` tells which re-entry rule refused it. */
export type StartRefusal =
  | { refused: 'NO_CONTACT' }
  | { refused: 'NO_WORKFLOW' }
  | { refused: 'WORKFLOW_DISABLED' }
  | { refused: 'REENTRY_NOT_ALLOWED'; allowReentry: boolean };

/** Thrown inside the start's transaction to roll it back (a contact the email created goes too). */
class Refused extends Error {
  constructor(readonly refusal: StartRefusal) {
    super(refusal.refused);
  }
}

/**
 * Starts a workflow of a project for a contact (by id, or by email, creating it): the execution row
 * and its queued start commit together. Any refusal rolls the whole transaction back.
 */
export async function startManualExecution(
  db: Db,
  input: { projectId: string; workflowId: string; contactId?: string; email?: string; context: JsonObject },
): Promise<{ execution: ExecutionRow } | StartRefusal> {
  try {
    return await db.transaction(async (tx) => {
      const contact = input.contactId
        ? await lockContact(tx, input.projectId, input.contactId)
        : (await upsertContact(tx, input.projectId, input.email!, {})).contact;
      if (!contact) throw new Refused({ refused: 'NO_CONTACT' });
      // Locks in the order every enrolment takes them: the contact, then the workflow (shared).
      const [workflow] = await tx
        .select()
        .from(workflows)
        .where(and(eq(workflows.id, input.workflowId), eq(workflows.projectId, input.projectId)))
        .for('share');
      if (!workflow) throw new Refused({ refused: 'NO_WORKFLOW' });
      if (!workflow.enabled) throw new Refused({ refused: 'WORKFLOW_DISABLED' });
      const result = await enrolContact(tx, {
        workflow,
        contactId: contact.id,
        context: input.context,
        trigger: { type: 'MANUAL' },
      });
      if (!result.ok) throw new Refused({ refused: 'REENTRY_NOT_ALLOWED', allowReentry: workflow.allowReentry });
      return { execution: result.execution };
    });
  } catch (err) {
    if (err instanceof Refused) return err.refusal;
    throw err;
  }
}

/** A page of a workflow's executions, newest first, optionally of one status or contact. */
export function executionPage(db: Db, workflowId: string, q: PageQuery & { status?: ExecutionStatus; contactId?: string }): Promise<RowPage<ExecutionRow>> {
  const where = and(
    eq(executions.workflowId, workflowId),
    q.status ? eq(executions.status, q.status) : undefined,
    q.contactId ? eq(executions.contactId, q.contactId) : undefined,
  );
  return selectPage(db, executions, where, [desc(executions.startedAt), desc(executions.id)], q);
}

/** An execution of a workflow, or undefined. */
export async function getWorkflowExecution(db: Db, workflowId: string, executionId: string): Promise<ExecutionRow | undefined> {
  const [row] = await db
    .select()
    .from(executions)
    .where(and(eq(executions.id, executionId), eq(executions.workflowId, workflowId)));
  return row;
}

/** An execution's step history in order. */
export function stepHistory(db: Db, executionId: string) {
  return db.select().from(stepExecutions).where(eq(stepExecutions.executionId, executionId)).orderBy(asc(stepExecutions.seq));
}

/**
 * Cancels every active execution of a workflow; answers how many. The outbox rows it deletes are
 * locked in id order, as a dispatcher's delete locks them (db/cancel.ts); should Postgres still break
 * a deadlock with it (another locker), it runs again: a cancel is the same cancel the second time.
 */
export function cancelWorkflowExecutions(db: Db, workflowId: string): Promise<number> {
  return retryingDeadlocks(() => db.transaction((tx) => cancelExecutions(tx, eq(executions.workflowId, workflowId))));
}

/** Cancels one execution if still active: whether it did, and the row after (run again on a deadlock, as above). */
export function cancelExecution(db: Db, executionId: string): Promise<{ cancelled: boolean; row: ExecutionRow }> {
  return retryingDeadlocks(() =>
    db.transaction(async (tx) => {
      const cancelled = await cancelExecutions(tx, eq(executions.id, executionId));
      const [after] = await tx.select().from(executions).where(eq(executions.id, executionId));
      return { cancelled: cancelled > 0, row: after! };
    }),
  );
}
