/** WEBHOOK: one HTTP call, retried by Temporal on 5xx/408/429/timeouts; its JSON becomes the step's output. */
import { outsideCalls } from '../activities';
import { settle, withJournal, type StepHandler } from '../handler';

export const webhook: StepHandler<'WEBHOOK'> = async (step, visit, state, env) => {
  const { http } = outsideCalls(state);
  const result = await withJournal(state, (journal) =>
    http.callWebhook({
      executionId: state.executionId,
      journal,
      visit,
      after: env.after,
      config: step.config,
      context: state.context,
      workflow: { id: state.input.workflowId, name: state.input.workflowName },
    }),
  );
  return settle(result, env);
};
