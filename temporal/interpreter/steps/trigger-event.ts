/** TRIGGER_EVENT: records an event on the contact, as /v1/track would, from inside the workflow. */
import { db } from '../activities';
import { settle, withJournal, type StepHandler } from '../handler';

export const triggerEvent: StepHandler<'TRIGGER_EVENT'> = async (step, visit, state, env) => {
  const { eventName, data } = step.config;
  const result = await withJournal(state, (journal) =>
    db(state).triggerEvent({ executionId: state.executionId, journal, visit, after: env.after, eventName, data, context: state.context }),
  );
  return settle(result, env);
};
