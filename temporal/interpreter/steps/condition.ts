/** CONDITION: evaluates the filter in workflow code over freshly loaded contact data and the context. */
import { evaluateFilter } from '../../../core/filter';
import { db } from '../activities';
import { ExecutionInactive, withJournal, type StepHandler } from '../handler';

export const conditionStep: StepHandler<'CONDITION'> = async (step, visit, state) => {
  const contact = await withJournal(state, (journal) => db.loadContact({ executionId: state.executionId, journal, currentStepId: step.id }));
  if (!contact) throw new ExecutionInactive('execution is no longer active');
  const result = evaluateFilter(step.config, { contact, event: state.context }, Date.now());
  state.record(visit, 'COMPLETED', { output: { result } });
  return { branch: result ? 'yes' : 'no' };
};
