/** Writing the execution projection: step records and execution patches from the interpreter's journal. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { ExecutionPatch, Journal, StepRecord } from '../core/execution';
import { ACTIVE_STATUSES } from '../core/statuses';
import { stepDurationSeconds, executionsFinishedTotal } from '../telemetry/metrics';
import { onCommit, type Tx } from './client';
import { executions, stepExecutions } from './schema';

/** Locks the execution's row; answers whether it is still active (false too when it was erased). */
export async function lockExecution(tx: Tx, executionId: string): Promise<{ active: boolean; status?: string; projectId?: string; contactId?: string }> {
  const [row] = await tx
    .select({ status: executions.status, projectId: executions.projectId, contactId: executions.contactId })
    .from(executions)
    .where(eq(executions.id, executionId))
    .for('update');
  if (!row) return { active: false };
  return { active: (ACTIVE_STATUSES as readonly string[]).includes(row.status), status: row.status, projectId: row.projectId, contactId: row.contactId };
}

/** Inserts or replaces step records (a visit is keyed by execution and `seq`, so retries are harmless). */
export async function writeStepRecords(tx: Tx, executionId: string, records: StepRecord[]): Promise<void> {
  if (records.length === 0) return;
  await tx
    .insert(stepExecutions)
    .values(
      records.map((r) => ({
        executionId,
        seq: r.seq,
        stepId: r.stepId,
        type: r.type,
        name: r.name,
        status: r.status,
        output: r.output ?? null,
        error: r.error ?? null,
        startedAt: new Date(r.startedAt),
        completedAt: r.completedAt ? new Date(r.completedAt) : null,
      })),
    )
    .onConflictDoUpdate({
      target: [stepExecutions.executionId, stepExecutions.seq],
      set: {
        status: sql`excluded.status`,
        output: sql`excluded.output`,
        error: sql`excluded.error`,
        completedAt: sql`excluded.completed_at`,
      },
    });
  // A visit's final record is written once (an activity retried after its commit may write it again).
  for (const r of records) {
    if (!r.completedAt || r.status === 'RUNNING' || r.status === 'WAITING') continue;
    const seconds = Math.max(0, (Date.parse(r.completedAt) - Date.parse(r.startedAt)) / 1000);
    onCommit(tx, () => stepDurationSeconds.observe({ type: r.type, status: r.status }, seconds));
  }
}

/** Applies a patch to the execution row, only while it is still active (a cancel from the API wins). */
export async function patchExecution(tx: Tx, executionId: string, patch: ExecutionPatch): Promise<void> {
  const applied = await tx
    .update(executions)
    .set({
      status: patch.status,
      ...(patch.currentStepId !== undefined ? { currentStepId: patch.currentStepId } : {}),
      ...(patch.context !== undefined ? { context: patch.context } : {}),
      ...(patch.exitReason !== undefined ? { exitReason: patch.exitReason } : {}),
      ...(patch.error !== undefined ? { error: patch.error } : {}),
      // Written with every status: the projection knows the current wait, so events reach only runs that wait.
      waitingFor: patch.waitingFor ?? null,
      ...(patch.completed ? { completedAt: sql`now()` } : {}),
    })
    .where(and(eq(executions.id, executionId), inArray(executions.status, [...ACTIVE_STATUSES])))
    .returning({ status: executions.status });
  if (patch.completed && applied.length > 0) onCommit(tx, () => executionsFinishedTotal.inc({ status: patch.status }));
}

/** Writes a journal; `replace` records (the activity's own visit) take precedence over journal ones. */
export async function applyJournal(tx: Tx, executionId: string, journal: Journal, replace: StepRecord[] = []): Promise<void> {
  const seqs = new Set(replace.map((r) => r.seq));
  await writeStepRecords(tx, executionId, [...journal.steps.filter((s) => !seqs.has(s.seq)), ...replace]);
  if (journal.execution) await patchExecution(tx, executionId, journal.execution);
}
