/** SEND_EMAIL: renders the template for the contact and sends it (the activity records the email). */
import { outsideCalls } from '../activities';
import { settle, waitDurably, withJournal, type StepHandler } from '../handler';

export const sendEmail: StepHandler<'SEND_EMAIL'> = async (step, visit, state, env) => {
  const { templateId, from } = step.config;
  const { mail } = outsideCalls(state);
  for (;;) {
    const result = await withJournal(state, (journal) =>
      mail.sendEmail({
        executionId: state.executionId,
        journal,
        visit,
        after: env.after,
        templateId,
        from,
        context: state.context,
        now: Date.now(),
      }),
    );
    if (result.done || result.reason !== 'quiet') return settle(result, env);
    // Held: WAITING until the quiet period ends (the step history and the Web UI show why); settings
    // may change meanwhile, so the activity judges again then.
    const output = { heldForQuietHoursUntil: result.until, zone: result.zone };
    await waitDurably(state, step, visit, result.until, output, `held for quiet hours until ${result.until} (${result.zone})`);
    state.record(visit, 'RUNNING');
  }
};
