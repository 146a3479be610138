/** The bookkeeping around a step activity: check the execution is active, write journal and visit. */
import { Context } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import type { StepActivityBase, StepActivityResult, StepRecord } from '../core/execution';
import type { Tx } from '../db/client';
import { applyJournal, lockExecution, patchExecution, writeStepRecords } from '../db/journal';
import { executions, stepExecutions } from '../db/schema';

/**
 * What opening a step found: the step is open for its work; or it is settled already — the execution
 * is no longer active, or an earlier attempt completed the visit but its result never reached
 * Temporal (its worker died, or it outlived its timeout), so the retry answers that attempt's output.
 */
export type OpenedStep = { open: true; projectId: string; contactId: string } | { open: false; result: StepActivityResult };

/**
 * Opens a step in the caller's transaction: locks the execution and, when it is still active, writes
 * the queued journal and the visit as RUNNING.
 */
export async function openStep(tx: Tx, req: StepActivityBase): Promise<OpenedStep> {
  const exec = await lockExecution(tx, req.executionId);
  // Only a retry can find its visit completed; checked before `active`, since that attempt may
  // have closed the execution along with the step.
  if (Context.current().info.attempt > 1) {
    const [earlier] = await tx
      .select({ stepId: stepExecutions.stepId, status: stepExecutions.status, output: stepExecutions.output })
      .from(stepExecutions)
      .where(and(eq(stepExecutions.executionId, req.executionId), eq(stepExecutions.seq, req.visit.seq)));
    if (earlier?.stepId === req.visit.stepId && earlier.status === 'COMPLETED') {
      return { open: false, result: { done: true, output: earlier.output } };
    }
  }
  if (!exec.active) return { open: false, result: { done: false, reason: 'inactive' } };
  await applyJournal(tx, req.executionId, req.journal, [{ ...req.visit, status: 'RUNNING' }]);
  await tx.update(executions).set({ currentStepId: req.visit.stepId }).where(eq(executions.id, req.executionId));
  return { open: true, projectId: exec.projectId!, contactId: exec.contactId! };
}

/** Closes a step: records the visit COMPLETED with its output and applies the `after` patch. */
export async function closeStep(tx: Tx, req: StepActivityBase, output: unknown): Promise<void> {
  const record: StepRecord = { ...req.visit, status: 'COMPLETED', output, completedAt: new Date().toISOString() };
  await writeStepRecords(tx, req.executionId, [record]);
  if (req.after) await patchExecution(tx, req.executionId, req.after);
}
