/**
 * The Temporal workflow: one execution per contact per enrolment, interpreting the pinned graph.
 * Workflow code only — deterministic, no I/O; side effects live in activities/.
 */
import { ApplicationFailure, CancellationScope, condition, defineSignal, isCancellation, setHandler } from '@temporalio/workflow';
import { EVENT_SIGNAL, type ExecutionInput, type ExecutionResult, type TrackedEventSignal } from '../core/execution';
import { db } from './interpreter/activities';
import { enterStatus, ExecutionInactive, flush, showStatus } from './interpreter/handler';
import { COMPLETED_BY_EARLIER_ATTEMPT } from './interpreter/patches';
import { reachedGoal, runExecution } from './interpreter/run';
import { ExecutionState } from './interpreter/state';

export { segmentComputation, segmentRefresh } from './segment-workflows';

export const trackedEvent = defineSignal<[TrackedEventSignal]>(EVENT_SIGNAL);

/** How long an execution cancelled in Postgres waits for Temporal's cancellation before giving up. */
const INACTIVE_GRACE_MS = 10 * 60 * 1000;

/** Runs one contact's execution of a workflow graph (SPEC §7). */
export async function contactExecution(input: ExecutionInput): Promise<ExecutionResult> {
  const state = new ExecutionState(input);
  // Asked at the start, so that every run since records its marker (see below).
  const askWhyInactive = state.patched(COMPLETED_BY_EARLIER_ATTEMPT);
  setHandler(trackedEvent, (event) => state.deliver(event));
  try {
    return await runExecution(state);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => recordCancelled(state));
      throw err;
    }
    if (err instanceof ExecutionInactive) {
      // A workflow task that fails after its local activities committed (Temporal refuses to
      // complete a run while a signal arrives) runs again from where the last one ended: its steps
      // then find the execution its earlier attempt completed, which only the run itself does, or
      // failed. FAILED also comes from a command of the run the outbox gave up on.
      if (askWhyInactive) {
        const { status, error } = await db(state).executionStatus({ executionId: state.executionId });
        if (status === 'COMPLETED') {
          showStatus('COMPLETED');
          return { status: 'COMPLETED' };
        }
        if (status === 'FAILED') {
          showStatus('FAILED');
          throw ApplicationFailure.nonRetryable(error ?? 'execution failed', 'StepFailed');
        }
      }
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
