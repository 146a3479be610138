/** The bookkeeping around a step activity: check the execution is active, write journal and visit. */
import { Context } from '@temporalio/activity';
import { and, eq, inArray } from 'drizzle-orm';
import type { StepActivityBase, StepActivityResult, StepRecord } from '../core/execution';
import type { Tx } from '../db/client';
import { ACTIVE_STATUSES } from '../core/statuses';
import { applyJournal, lockExecution, patchExecution, writeStepRecords } from '../db/journal';
import { executions, stepExecutions } from '../db/schema';

/**
 * What opening a step found: the step is open for its work; or it is settled already — the execution
 * is no longer active, or an earlier attempt completed the visit but its result never reached
 * Temporal (its worker died, or it outlived its timeout), so the retry answers that attempt's output.
 */
export type OpenedStep = { open: true; projectId: string; contactId: string; depth: number } | { open: false; result: StepActivityResult };

/** True when this activity attempt is a retry (an earlier attempt may have done part of the work). */
export function isRetry(): boolean {
  return Context.current().info.attempt > 1;
}

/**
 * Opens a step in the caller's transaction: claims the execution's row (locked, and only while it is
 * still active, making the visit its current step), writes the queued journal and — unless the step
 * finishes in this same transaction (`recordRunning: false`) — the visit as RUNNING.
 */
export async function openStep(tx: Tx, req: StepActivityBase, options: { recordRunning?: boolean } = {}): Promise<OpenedStep> {
  const [claimed] = await tx
    .update(executions)
    .set({ currentStepId: req.visit.stepId })
    .where(and(eq(executions.id, req.executionId), inArray(executions.status, [...ACTIVE_STATUSES])))
    .returning({ projectId: executions.projectId, contactId: executions.contactId, depth: executions.depth });
  // Only a retry can find its visit completed. Checked after the claim, which waits for an earlier
  // attempt still committing under the row lock; before the inactive answer, since that attempt may
  // have closed the execution along with the step.
  if (isRetry()) {
    const [earlier] = await tx
      .select({ stepId: stepExecutions.stepId, status: stepExecutions.status, output: stepExecutions.output })
      .from(stepExecutions)
      .where(and(eq(stepExecutions.executionId, req.executionId), eq(stepExecutions.seq, req.visit.seq)));
    if (earlier?.stepId === req.visit.stepId && earlier.status === 'COMPLETED') {
      return { open: false, result: { done: true, output: earlier.output } };
    }
  }
  if (!claimed) return { open: false, result: { done: false, reason: 'inactive' } };
  // The visit is newer than any current step the journal names.
  const patch = req.journal.execution ? { ...req.journal.execution, currentStepId: undefined } : undefined;
  const running: StepRecord[] = options.recordRunning === false ? [] : [{ ...req.visit, status: 'RUNNING' }];
  await applyJournal(tx, req.executionId, { steps: req.journal.steps, execution: patch }, running);
  return { open: true, projectId: claimed.projectId, contactId: claimed.contactId, depth: claimed.depth };
}

/** Closes a step: records the visit COMPLETED with its output and applies the `after` patch. */
export async function closeStep(tx: Tx, req: StepActivityBase, output: unknown): Promise<void> {
  const record: StepRecord = { ...req.visit, status: 'COMPLETED', output, completedAt: new Date().toISOString() };
  await writeStepRecords(tx, req.executionId, [record]);
  if (req.after) await patchExecution(tx, req.executionId, req.after);
}

/**
 * Re-checks, right before a side effect (an SMTP or HTTP call), that the execution is still active.
 * One statement under the row lock: a cancel being committed at this moment is waited for and seen;
 * a cancel that comes later reaches the call through Temporal (activities/cancellation.ts).
 */
export async function stillActive(db: Tx, executionId: string): Promise<boolean> {
  return (await lockExecution(db, executionId)).active;
}

/**
 * Closes a step whose work happened outside the transaction that opened it, only while the
 * execution is still active: an answer that arrives after a cancel is never recorded as the step's
 * result (the cancel recorded the step CANCELLED). Answers whether it was recorded.
 */
export async function closeStepIfActive(tx: Tx, req: StepActivityBase, output: unknown): Promise<boolean> {
  if (!(await lockExecution(tx, req.executionId)).active) return false;
  await closeStep(tx, req, output);
  return true;
}
