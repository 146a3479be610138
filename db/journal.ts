/** Writing the execution projection: step records and execution patches from the interpreter's journal. */
import type { ExecutionPatch, Journal, StepRecord } from '../core/execution';
import { ACTIVE_STATUSES } from '../core/statuses';
import { stepDurationSeconds, executionsFinishedTotal } from '../telemetry/metrics';
import { onCommit, type PreparedStatement, prepared, runPrepared, type Tx } from './client';

const lockExecutionRow = prepared(
  'journal.lock-execution',
  `select status, project_id as "projectId", contact_id as "contactId" from executions where id = $1 for update`,
);

type ExecutionLock = { active: boolean; status?: string; projectId?: string; contactId?: string };

/** Locks the execution's row; answers whether it is still active (false too when it was erased). */
export async function lockExecution(tx: Tx, executionId: string): Promise<ExecutionLock> {
  return lockedExecution(await runPrepared(tx, lockExecutionRow, [executionId]));
}

function lockedExecution([row]: { status: string; projectId: string; contactId: string }[]): ExecutionLock {
  if (!row) return { active: false };
  return { active: (ACTIVE_STATUSES as readonly string[]).includes(row.status), status: row.status, projectId: row.projectId, contactId: row.contactId };
}

/** The active statuses as an SQL list, for `status in (…)` in statement text. */
export const ACTIVE = ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ');

const FINAL_STEP = ['COMPLETED', 'FAILED', 'CANCELLED'].map((s) => `'${s}'`).join(', ');

/**
 * Inserts or replaces the step records of execution $1 given as one JSON array in $2; `from` adds a
 * table the rows come only with. A visit that ended (COMPLETED, FAILED, CANCELLED) is never opened
 * again: an attempt that outlived its timeout, opening the step after its retry closed it, leaves
 * the record as the retry wrote it.
 */
const stepRecords = (from = '') => `insert into step_executions (execution_id, seq, step_id, type, name, status, output, error, started_at, completed_at)
   select $1::uuid, r.seq, r.step_id, r.type, r.name, r.status, r.output, r.error, r.started_at, r.completed_at
     from ${from}jsonb_to_recordset($2::jsonb)
       as r(seq integer, step_id uuid, type text, name text, status text, output jsonb, error text, started_at timestamptz, completed_at timestamptz)
   on conflict (execution_id, seq) do update
      set status = excluded.status, output = excluded.output, error = excluded.error, completed_at = excluded.completed_at
      where step_executions.status not in (${FINAL_STEP}) or excluded.status in (${FINAL_STEP})
   returning seq, status`;

/**
 * The `prior_final` table: the seqs of the records in $2 whose visits had already ended before the
 * statement (every part of a statement reads the rows as they were when it began), so that
 * NEWLY_FINAL can tell a visit that ends now from one written again.
 */
const PRIOR_FINAL = `prior_final as (
     select s.seq from step_executions s join jsonb_to_recordset($2::jsonb) as r(seq integer) on r.seq = s.seq
      where s.execution_id = $1 and s.status in (${FINAL_STEP}))`;

/**
 * The seqs of the visits the statement's `recorded` table ended (written COMPLETED, FAILED or
 * CANCELLED, and not ended before), as `newlyFinal`: a step's duration is observed once, however
 * often a retried activity writes its final record again. Not when two attempts write it at the
 * same moment (an attempt that outlived its timeout and its retry): the one whose statement waited
 * for the other's lock read the record as it was before, and both count it.
 */
const NEWLY_FINAL = `(select coalesce(array_agg(seq), '{}') from recorded
      where status in (${FINAL_STEP}) and seq not in (select seq from prior_final)) as "newlyFinal"`;

/** What each statement here answers besides its own columns. */
type Recorded = { newlyFinal: number[] };

/** Any number of step records in one statement: they travel as one JSON array. */
const upsertStepRecords = prepared('journal.upsert-steps', `with ${PRIOR_FINAL}, recorded as (${stepRecords()}) select ${NEWLY_FINAL}`);

/**
 * An execution patch (its parameters from `first` on, as patchValues gives them): the assignments.
 * Every key of ExecutionPatch in one list: an absent key keeps its column, except `waitingFor`,
 * which any patch writes (the projection knows the current wait, so events reach only runs that
 * wait).
 */
const ASSIGNMENTS = (first: number) => {
  const $ = (i: number) => `$${first + i}`;
  return `status = ${$(0)},
     current_step_id = case when ${$(1)}::boolean then ${$(2)}::uuid else current_step_id end,
     context = coalesce(${$(3)}::jsonb, context),
     exit_reason = coalesce(${$(4)}, exit_reason),
     error = coalesce(${$(5)}, error),
     waiting_for = ${$(6)},
     completed_at = case when ${$(7)}::boolean then now() else completed_at end`;
};

/** The patch, only while the execution is active (a cancel from the API wins). */
const PATCH = (first: number) => `update executions set ${ASSIGNMENTS(first)} where id = $1 and status in (${ACTIVE}) returning status`;

/**
 * Step records ($2) and the execution's patch in one statement: the records are written whatever
 * the patch finds. One row: the status the patch wrote (null when it found the execution inactive).
 */
const recordsThenPatch = prepared(
  'journal.records-then-patch',
  `with ${PRIOR_FINAL}, recorded as (${stepRecords()}), patched as (${PATCH(3)})
   select (select status from patched) as status, ${NEWLY_FINAL}`,
);

/**
 * A step's claim of its execution ($1), as the `claimed` table: the row locked, and only while the
 * execution is still active, with the visit's step ($3) as its current step — with `patch`, the
 * journal's patch applied along (its parameters from $3 on, the visit's step as its current one);
 * and the step records ($2) written only when the claim succeeded. `select` reads from `claimed`
 * (project_id, contact_id, depth) with CLAIMED_COLUMNS, which also answer the visits the records
 * ended, joining what the step reads next; its own parameters come after the claim's (`CLAIM_PARAMS`).
 */
function claimSql(options: { patch: boolean; select: string; current?: boolean; guard?: string }): string {
  const set = options.patch ? ASSIGNMENTS(3) : 'current_step_id = $3';
  // The update follows a row changed by a transaction that committed after the statement began to
  // its new version; with `current` it then claims nothing, so what `select` reads is never older
  // than the row it claimed.
  return `with ${options.current ? 'seen as (select ctid from executions where id = $1), ' : ''}claimed as (
     update executions set ${set} where id = $1 and status in (${ACTIVE})${options.current ? ' and ctid = (select ctid from seen)' : ''}${options.guard ? ` and ${options.guard}` : ''}
     returning project_id, contact_id, depth),
   ${PRIOR_FINAL},
   recorded as (${stepRecords('claimed, ')})
   ${options.select}`;
}

/** How many parameters the claim itself takes, with and without a patch. */
const CLAIM_PARAMS = { plain: 3, patch: 10 } as const;

/** The claim's parameters; with a patch, the visit's step is its current step. */
function claimValues(executionId: string, stepId: string, records: StepRecord[], patch: ExecutionPatch | undefined): unknown[] {
  return patch ? [executionId, recordsJson(records), ...patchValues({ ...patch, currentStepId: stepId })] : [executionId, recordsJson(records), stepId];
}

/**
 * The claimed execution's columns as a claim answers them (`claimed.` names them in a join), with
 * the visits its records ended (`newlyFinal`).
 */
export const CLAIMED_COLUMNS = `claimed.project_id as "projectId", claimed.contact_id as "contactId", claimed.depth, ${NEWLY_FINAL}`;

/** A claim's two statements (after a journal with a patch, or not) that also read with `select` (its own parameters from `first` on). */
export interface ClaimStatements {
  plain: PreparedStatement;
  patch: PreparedStatement;
}

/**
 * Prepares a claim reading what `select` reads from `claimed` and its joins (its own parameters from
 * `first` on). `current`: the claim also fails (no row) when a transaction changed the execution's row
 * after the statement began, so that `select` may read what such a transaction would have written
 * with it. `guard`: a further condition of the claim (on the same parameters as `select`).
 */
export function claimReading(
  name: string,
  select: (first: number) => string,
  options: { current?: boolean; guard?: (first: number) => string } = {},
): ClaimStatements {
  const sqlFor = (patch: boolean, first: number) => claimSql({ patch, select: select(first), current: options.current, guard: options.guard?.(first) });
  // claimAndRecord observes the durations of the visits the claim ended from what CLAIMED_COLUMNS answer.
  if (!select(CLAIM_PARAMS.plain + 1).includes(CLAIMED_COLUMNS)) throw new Error(`claim ${name}: its select must answer CLAIMED_COLUMNS`);
  return {
    plain: prepared(name, sqlFor(false, CLAIM_PARAMS.plain + 1)),
    patch: prepared(`${name}-after-patch`, sqlFor(true, CLAIM_PARAMS.patch + 1)),
  };
}

const claimOnly = claimReading('journal.claim-then-record', () => `select ${CLAIMED_COLUMNS} from claimed`);

/** What a claim answers: the claimed execution, with what the statement's `select` read. */
export type Claimed<R = object> = { projectId: string; contactId: string; depth: number } & Recorded & R;

/**
 * Claims the execution for a step, applies the journal's patch (when there is one) and writes step
 * records, in one statement; no row when it is no longer active. `read` names statements built by
 * claimReading that also read what the step needs next, with their own parameters (`values`).
 */
export async function claimAndRecord<R = object>(
  tx: Tx,
  executionId: string,
  stepId: string,
  records: StepRecord[],
  patch?: ExecutionPatch,
  read: { statements: ClaimStatements; values: unknown[] } = { statements: claimOnly, values: [] },
): Promise<Claimed<R>[]> {
  const statement = patch ? read.statements.patch : read.statements.plain;
  const claimed = await runPrepared<Claimed<R>>(tx, statement, [...claimValues(executionId, stepId, records, patch), ...read.values]);
  if (claimed[0]) {
    observeDurations(tx, records, claimed[0]);
    if (patch?.completed) onCommit(tx, () => executionsFinishedTotal.inc({ status: patch.status }));
  }
  return claimed;
}

/** The journal's records with `replace` (an activity's own visit) taking precedence. */
export function withReplaced(records: StepRecord[], replace: StepRecord[]): StepRecord[] {
  const seqs = new Set(replace.map((r) => r.seq));
  return [...records.filter((s) => !seqs.has(s.seq)), ...replace];
}

/** The records as the statements above read them (one JSON array). */
function recordsJson(records: StepRecord[]): string {
  return JSON.stringify(
    records.map((r) => ({
      seq: r.seq,
      step_id: r.stepId,
      type: r.type,
      name: r.name,
      status: r.status,
      output: r.output ?? null,
      error: r.error ?? null,
      started_at: r.startedAt,
      completed_at: r.completedAt ?? null,
    })),
  );
}

/** The patch statements' parameters, in their order. */
function patchValues(patch: ExecutionPatch): unknown[] {
  return [
    patch.status,
    patch.currentStepId !== undefined,
    patch.currentStepId ?? null,
    patch.context !== undefined ? JSON.stringify(patch.context) : null,
    patch.exitReason ?? null,
    patch.error ?? null,
    patch.waitingFor ?? null,
    patch.completed === true,
  ];
}

/**
 * The durations of the visits a statement ended (NEWLY_FINAL: an activity retried after its commit
 * writes a final record again, and is not observed again), at the commit.
 */
function observeDurations(tx: Tx, records: StepRecord[], { newlyFinal }: Recorded): void {
  if (newlyFinal.length === 0) return;
  const ended = new Set(newlyFinal);
  for (const r of records) {
    if (!ended.has(r.seq) || !r.completedAt) continue;
    const seconds = Math.max(0, (Date.parse(r.completedAt) - Date.parse(r.startedAt)) / 1000);
    onCommit(tx, () => stepDurationSeconds.observe({ type: r.type, status: r.status }, seconds));
  }
}

/** Inserts or replaces step records (a visit is keyed by execution and `seq`, so retries are harmless). */
async function writeStepRecords(tx: Tx, executionId: string, records: StepRecord[]): Promise<void> {
  if (records.length === 0) return;
  const [recorded] = await runPrepared<Recorded>(tx, upsertStepRecords, [executionId, recordsJson(records)]);
  observeDurations(tx, records, recorded!);
}

/** Step records and, when given, the execution's patch (applied only while it is active: a cancel from the API wins); one statement either way. */
export async function writeRecordsAndPatch(tx: Tx, executionId: string, records: StepRecord[], patch: ExecutionPatch | undefined): Promise<void> {
  if (!patch) return writeStepRecords(tx, executionId, records);
  const [written] = await runPrepared<Recorded & { status: string | null }>(tx, recordsThenPatch, [executionId, recordsJson(records), ...patchValues(patch)]);
  observeDurations(tx, records, written!);
  if (patch.completed && written!.status !== null) onCommit(tx, () => executionsFinishedTotal.inc({ status: patch.status }));
}

/** Writes a journal; `replace` records (the activity's own visit) take precedence over journal ones. */
export async function applyJournal(tx: Tx, executionId: string, journal: Journal, replace: StepRecord[] = []): Promise<void> {
  await writeRecordsAndPatch(tx, executionId, withReplaced(journal.steps, replace), journal.execution);
}
