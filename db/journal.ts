/** Writing the execution projection: step records and execution patches from the interpreter's journal. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { ExecutionPatch, Journal, StepRecord } from '../core/execution';
import { ACTIVE_STATUSES } from '../core/statuses';
import { stepDurationSeconds, executionsFinishedTotal } from '../telemetry/metrics';
import { onCommit, prepared, runPrepared, type Tx } from './client';
import { executions } from './schema';

const lockExecutionRow = prepared(
  'journal.lock-execution',
  `select status, project_id as "projectId", contact_id as "contactId" from executions where id = $1 for update`,
);

/** Locks the execution's row; answers whether it is still active (false too when it was erased). */
export async function lockExecution(tx: Tx, executionId: string): Promise<{ active: boolean; status?: string; projectId?: string; contactId?: string }> {
  const [row] = await runPrepared<{ status: string; projectId: string; contactId: string }>(tx, lockExecutionRow, [executionId]);
  if (!row) return { active: false };
  return { active: (ACTIVE_STATUSES as readonly string[]).includes(row.status), status: row.status, projectId: row.projectId, contactId: row.contactId };
}

/** Any number of step records in one statement: they travel as one JSON array. */
const upsertStepRecords = prepared(
  'journal.upsert-steps',
  `insert into step_executions (execution_id, seq, step_id, type, name, status, output, error, started_at, completed_at)
   select $1::uuid, r.seq, r.step_id, r.type, r.name, r.status, r.output, r.error, r.started_at, r.completed_at
     from jsonb_to_recordset($2::jsonb)
       as r(seq integer, step_id uuid, type text, name text, status text, output jsonb, error text, started_at timestamptz, completed_at timestamptz)
   on conflict (execution_id, seq) do update
      set status = excluded.status, output = excluded.output, error = excluded.error, completed_at = excluded.completed_at`,
);

/** Inserts or replaces step records (a visit is keyed by execution and `seq`, so retries are harmless). */
export async function writeStepRecords(tx: Tx, executionId: string, records: StepRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({
    seq: r.seq,
    step_id: r.stepId,
    type: r.type,
    name: r.name,
    status: r.status,
    output: r.output ?? null,
    error: r.error ?? null,
    started_at: r.startedAt,
    completed_at: r.completedAt ?? null,
  }));
  await runPrepared(tx, upsertStepRecords, [executionId, JSON.stringify(rows)]);
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
