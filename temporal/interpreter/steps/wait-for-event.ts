/**
 * WAIT_FOR_EVENT: an event signal raced against a durable timer; `event` or `timeout` branch. The
 * wait takes the first event of its name recorded on the contact after the step started: one already
 * recorded when the projection shows the wait comes from Postgres (startWait), later ones by signal.
 */
import { condition, makeContinueAsNewFunc, workflowInfo } from '@temporalio/workflow';
import type { StepRecord, TrackedEventSignal } from '../../../core/execution';
import type { StepConfigs } from '../../../core/step-configs';
import type { contactExecution } from '../../workflows';
import { db } from '../activities';
import { enterStatus, ExecutionInactive, flush, withJournal, type StepHandler, type StepOutcome } from '../handler';
import { WAIT_SINCE_START } from '../patches';
import type { ExecutionState } from '../state';

type WaitConfig = StepConfigs['WAIT_FOR_EVENT'];

export const waitForEvent: StepHandler<'WAIT_FOR_EVENT'> = async (step, visit, state) => {
  const { eventName, timeout } = step.config;
  // Runs that opened this wait before events were judged by their record time replay as they ran.
  if (!state.patched(WAIT_SINCE_START)) return legacyWait(step.id, visit, state, step.config);
  const since = Date.parse(visit.startedAt);
  // Opened by enrolment: in Postgres as startWait leaves it, and listened to since the run started.
  const opened = state.openedWaitInbox(visit);
  const inbox = opened ?? state.listen(eventName, since);
  if (!opened) {
    state.record(visit, 'WAITING');
    enterStatus(state, 'WAITING', step.id, { waitingFor: eventName });
    const { active, event } = await withJournal(state, (journal) =>
      db(state).startWait({ executionId: state.executionId, journal, eventName, since: visit.startedAt }),
    );
    if (!active) throw new ExecutionInactive('execution is no longer active');
    if (event) state.deliver(event);
  }

  // The timeout runs on the run's clock (Temporal's): from the visit's start, or, for the wait
  // enrolment opened (whose start is Postgres's time), whole from now, the run's first moment.
  const timeoutMs = timeout === undefined ? undefined : opened ? timeout * 1000 : Math.max(1, since + timeout * 1000 - Date.now());
  const settled = () => inbox.event !== undefined || workflowInfo().continueAsNewSuggested;
  // biome-ignore lint/complexity/noCommaOperator: without a timeout only the predicate ends the wait.
  const inTime = timeoutMs === undefined ? (await condition(settled), true) : await condition(settled, timeoutMs);
  if (inbox.event) return took(inbox.event, step.id, visit, state);
  if (inTime) {
    // Signals that reach a run without ending its wait (late or repeated deliveries) still grow its
    // history: the next run goes on with this very wait, and asks Postgres again for what came since.
    const { memo, typedSearchAttributes } = workflowInfo();
    await makeContinueAsNewFunc<typeof contactExecution>({ memo, typedSearchAttributes })({ ...state.input, resume: { visit, context: state.context } });
  }
  return timedOut(step.id, visit, state);
};

function took(event: TrackedEventSignal, stepId: string, visit: StepRecord, state: ExecutionState): StepOutcome {
  state.stopListening();
  state.context = { ...state.context, ...event.data };
  state.record(visit, 'COMPLETED', { output: { outcome: 'event', eventId: event.eventId } });
  enterStatus(state, 'RUNNING', stepId, { context: state.context });
  return { branch: 'event' };
}

function timedOut(stepId: string, visit: StepRecord, state: ExecutionState): StepOutcome {
  state.stopListening();
  state.record(visit, 'COMPLETED', { output: { outcome: 'timeout' } });
  enterStatus(state, 'RUNNING', stepId);
  return { branch: 'timeout' };
}

/** The wait as it ran before `wait-since-start`: listening from the step's start, taking the first signal. */
async function legacyWait(stepId: string, visit: StepRecord, state: ExecutionState, { eventName, timeout }: WaitConfig): Promise<StepOutcome> {
  const inbox = state.listen(eventName);
  state.record(visit, 'WAITING');
  enterStatus(state, 'WAITING', stepId, { waitingFor: eventName });
  await flush(state);
  const arrived = () => inbox.event !== undefined;
  // biome-ignore lint/complexity/noCommaOperator: without a timeout the wait ends only when the event arrived; kept as written so the interpreter's awaits stay as they are.
  const gotEvent = timeout === undefined ? (await condition(arrived), true) : await condition(arrived, timeout * 1000);
  if (gotEvent && inbox.event) return took(inbox.event, stepId, visit, state);
  return timedOut(stepId, visit, state);
}
