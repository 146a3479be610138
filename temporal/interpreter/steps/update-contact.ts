/** UPDATE_CONTACT: merges rendered data into the contact, sets `subscribed` and adds or removes tags. */
import { db } from '../activities';
import { settle, withJournal, type StepHandler } from '../handler';

export const updateContact: StepHandler<'UPDATE_CONTACT'> = async (step, visit, state, env) => {
  const { data, subscribed, addTags, removeTags } = step.config;
  const result = await withJournal(state, (journal) =>
    db(state).updateContact({
      executionId: state.executionId,
      journal,
      visit,
      after: env.after,
      data,
      subscribed,
      addTags,
      removeTags,
      context: state.context,
    }),
  );
  return settle(result, env);
};
