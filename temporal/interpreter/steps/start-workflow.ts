/** START_WORKFLOW: enrols the contact in another workflow; the execution continues either way. */
import { dbTask } from '../activities';
import { settle, withJournal, type StepHandler } from '../handler';

export const startWorkflow: StepHandler<'START_WORKFLOW'> = async (step, visit, state, env) => {
  const { workflowId, context } = step.config;
  const result = await withJournal(state, (journal) =>
    dbTask.startWorkflow({
      executionId: state.executionId,
      journal,
      visit,
      after: env.after,
      targetWorkflowId: workflowId,
      targetContext: context,
      context: state.context,
    }),
  );
  return settle(result, env);
};
