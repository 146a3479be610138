/** The bookkeeping around a step activity: check the execution is active, write journal and visit. */
import type { StepActivityBase, StepRecord } from '../core/execution';
import type { Tx } from '../db/client';
import { applyJournal, lockExecution, patchExecution, writeStepRecords } from '../db/journal';
import { executions } from '../db/schema';
import { eq } from 'drizzle-orm';

/**
 * Opens a step in the caller's transaction: locks the execution, and when it is still active writes
 * the queued journal and the visit as RUNNING. Returns the execution's owner ids, or undefined when
 * it is no longer active (the activity then does nothing).
 */
export async function openStep(tx: Tx, req: StepActivityBase): Promise<{ projectId: string; contactId: string } | undefined> {
  const exec = await lockExecution(tx, req.executionId);
  if (!exec.active) return undefined;
  await applyJournal(tx, req.executionId, req.journal, [{ ...req.visit, status: 'RUNNING' }]);
  await tx.update(executions).set({ currentStepId: req.visit.stepId }).where(eq(executions.id, req.executionId));
  return { projectId: exec.projectId!, contactId: exec.contactId! };
}

/** Closes a step: records the visit COMPLETED with its output and applies the `after` patch. */
export async function closeStep(tx: Tx, req: StepActivityBase, output: unknown): Promise<void> {
  const record: StepRecord = { ...req.visit, status: 'COMPLETED', output, completedAt: new Date().toISOString() };
  await writeStepRecords(tx, req.executionId, [record]);
  if (req.after) await patchExecution(tx, req.executionId, req.after);
}
