/** The shape of a step handler and the helpers they share. */
import { setCurrentDetails, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { GraphStepOf, StepType } from '../../core/graph';
import type { ExecutionPatch, Journal, StepActivityResult, StepRecord } from '../../core/execution';
import type { ExecutionStatus } from '../../core/statuses';
import { statusKey } from '../search-attributes';
import { db } from './activities';
import type { ExecutionState } from './state';

export interface StepOutcome {
  /** The branch the step ended on (`yes`/`no`, `event`/`timeout`). */
  branch?: string;
  /** Set by EXIT: the execution ends EXITED with this reason. */
  exitReason?: string;
  /** True when the step's activity already wrote the execution's final status. */
  finished?: boolean;
}

export interface HandlerEnv {
  /** The patch a step with no successor writes along with its completion (COMPLETED). */
  after?: ExecutionPatch;
}

/** Runs one visit of a step of type `T`; the step's config arrives typed by its type. */
export type StepHandler<T extends StepType> = (step: GraphStepOf<T>, visit: StepRecord, state: ExecutionState, env: HandlerEnv) => Promise<StepOutcome>;

/** Thrown when an activity finds that its execution was cancelled or erased behind the workflow's back. */
export class ExecutionInactive extends Error {
  override readonly name = 'ExecutionInactive';
}

/** Runs an activity with the queued bookkeeping; on failure the bookkeeping is queued again. */
export async function withJournal<T>(state: ExecutionState, call: (journal: Journal) => Promise<T>): Promise<T> {
  const journal = state.take();
  try {
    return await call(journal);
  } catch (err) {
    state.restore(journal);
    throw err;
  }
}

/** Writes the queued bookkeeping now (when the projection must show it: a wait, the end). */
export async function flush(state: ExecutionState): Promise<void> {
  const { active } = await withJournal(state, (journal) => db(state).flushJournal({ executionId: state.executionId, journal }));
  if (!active) throw new ExecutionInactive('execution is no longer active');
}

/** Turns a step activity's result into an outcome, or stops when the execution is no longer active. */
export function settle(result: StepActivityResult, env: HandlerEnv): StepOutcome {
  if (!result.done) throw new ExecutionInactive('execution is no longer active');
  return { finished: env.after !== undefined };
}

/** Moves the execution to `status` at `step`, in the projection and in the Web UI's search attributes. */
export function enterStatus(state: ExecutionState, status: ExecutionStatus, stepId: string, extra: Partial<ExecutionPatch> = {}): void {
  state.patch({ status, currentStepId: stepId, ...extra });
  showStatus(status);
}

/** Shows `status` in the Web UI's search attributes (the projection is written separately). */
export function showStatus(status: ExecutionStatus): void {
  // Only where the start registered it (the time-skipping test server has no custom attributes).
  if (workflowInfo().typedSearchAttributes.get(statusKey) === undefined) return;
  upsertSearchAttributes([{ key: statusKey, value: status }]);
}

/**
 * A step waits durably until `until` (ISO): its record WAITING with `output`, the execution WAITING
 * (written before the timer starts), `why` in the Web UI's current details; RUNNING again after.
 */
export async function waitDurably(
  state: ExecutionState,
  step: GraphStepOf<StepType>,
  visit: StepRecord,
  until: string,
  output: unknown,
  why: string,
): Promise<void> {
  state.record(visit, 'WAITING', { output });
  enterStatus(state, 'WAITING', step.id);
  await flush(state);
  setCurrentDetails(`**${step.name}** (${step.type}) — ${why}, step ${visit.seq}`);
  await sleep(Date.parse(until) - Date.now());
  setCurrentDetails(`**${step.name}** (${step.type}) — step ${visit.seq}`);
  enterStatus(state, 'RUNNING', step.id);
}
