/**
 * The Temporal workflow: one execution per contact per enrolment, interpreting the pinned graph.
 * Workflow code only — deterministic, no I/O; side effects live in activities/.
 */
import { ApplicationFailure, CancellationScope, condition, defineSignal, isCancellation, setHandler } from '@temporalio/workflow';
import { EVENT_SIGNAL, type ExecutionInput, type ExecutionResult, type TrackedEventSignal } from '../core/execution';
import { enterStatus, ExecutionInactive, flush } from './interpreter/handler';
import { reachedGoal, runExecution } from './interpreter/run';
import { ExecutionState } from './interpreter/state';

export { segmentComputation, segmentRefresh } from './segment-workflows';

export const trackedEvent = defineSignal<[TrackedEventSignal]>(EVENT_SIGNAL);

/** How long an execution cancelled in Postgres waits for Temporal's cancellation before giving up. */
const INACTIVE_GRACE_MS = 10 * 60 * 1000;

/** Runs one contact's execution of a workflow graph (SPEC §7). */
export async function contactExecution(input: ExecutionInput): Promise<ExecutionResult> {
  const state = new ExecutionState(input);
  setHandler(trackedEvent, (event) => state.deliver(event));
  try {
    return await runExecution(state);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => recordCancelled(state));
      throw err;
    }
    if (err instanceof ExecutionInactive) {
      // The API cancelled it in Postgres first, and Temporal's cancellation is on its way; or a goal
      // ended it there, and the event that reached it is on its way.
      if (await condition(() => state.exitReason !== undefined, INACTIVE_GRACE_MS)) return reachedGoal(state);
      throw ApplicationFailure.nonRetryable('execution was cancelled outside Temporal', 'ExecutionInactive');
    }
    throw err;
  }
}

async function recordCancelled(state: ExecutionState): Promise<void> {
  if (state.current) {
    state.record(state.current, 'CANCELLED');
    enterStatus(state, 'CANCELLED', state.current.stepId, { completed: true });
  } else {
    state.patch({ status: 'CANCELLED', completed: true });
  }
  await flush(state).catch((err) => {
    if (!(err instanceof ExecutionInactive)) throw err;
  });
}

export { audienceEnrolment } from './enrolment/workflow';
export { historyPurge } from './purge-workflows';
