/** UPDATE_CONTACT: merges rendered data into the contact and sets `subscribed` if given. */
import { db } from '../activities';
import { settle, withJournal, type StepHandler } from '../handler';

export const updateContact: StepHandler = async (step, visit, state, env) => {
  const { data, subscribed } = step.config as { data?: Record<string, unknown>; subscribed?: boolean };
  const result = await withJournal(state, (journal) =>
    db.updateContact({ executionId: state.executionId, journal, visit, after: env.after, data, subscribed, context: state.context }),
  );
  return settle(result, env);
};
