/** CONDITION: the filter over freshly loaded contact data and the context; `yes` or `no`. */
import { evaluateFilter } from '../../../core/filter';
import { db } from '../activities';
import { ExecutionInactive, withJournal, type StepHandler } from '../handler';
import { CONDITION_OUTCOME_RECORDED } from '../patches';
import type { ExecutionState } from '../state';
import type { GraphStepOf } from '../../../core/graph';

export const conditionStep: StepHandler<'CONDITION'> = async (step, visit, state) => {
  const result = state.patched(CONDITION_OUTCOME_RECORDED) ? await recordedOutcome(step, state) : await outcomeInWorkflow(step, state);
  state.record(visit, 'COMPLETED', { output: { result } });
  return { branch: result ? 'yes' : 'no' };
};

/** The activity evaluates the filter, so the outcome is in the history and a replay never re-evaluates it. */
async function recordedOutcome(step: GraphStepOf<'CONDITION'>, state: ExecutionState): Promise<boolean> {
  const filter = step.config;
  const outcome = await withJournal(state, (journal) =>
    db(state).evaluateCondition({ executionId: state.executionId, journal, currentStepId: step.id, filter, context: state.context, now: Date.now() }),
  );
  if (!outcome) throw new ExecutionInactive('execution is no longer active');
  return outcome.result;
}

/** Runs started before CONDITION_OUTCOME_RECORDED: the filter ran here, over the contact an activity loaded. */
async function outcomeInWorkflow(step: GraphStepOf<'CONDITION'>, state: ExecutionState): Promise<boolean> {
  const contact = await withJournal(state, (journal) => db(state).loadContact({ executionId: state.executionId, journal, currentStepId: step.id }));
  if (!contact) throw new ExecutionInactive('execution is no longer active');
  return evaluateFilter(step.config, { contact, event: state.context }, Date.now());
}
