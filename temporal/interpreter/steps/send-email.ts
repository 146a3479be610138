/** SEND_EMAIL: renders the template for the contact and sends it (the activity records the email). */
import { outsideCalls } from '../activities';
import { settle, withJournal, type StepHandler } from '../handler';

export const sendEmail: StepHandler<'SEND_EMAIL'> = async (step, visit, state, env) => {
  const { templateId, from } = step.config;
  const { mail } = outsideCalls();
  const result = await withJournal(state, (journal) =>
    mail.sendEmail({
      executionId: state.executionId,
      journal,
      visit,
      after: env.after,
      templateId,
      from,
      context: state.context,
    }),
  );
  return settle(result, env);
};
