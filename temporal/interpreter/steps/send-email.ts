/** SEND_EMAIL: renders the template for the contact and sends it (the activity records the email). */
import type { StepActivityResult } from '../../../core/execution';
import type { SendEmailRequest } from '../../../activities/send-email';
import { firstLocallyThenTask, MAIL_FAILS_FOR_GOOD, outsideCalls } from '../activities';
import { settle, waitDurably, withJournal, type StepHandler } from '../handler';

export const sendEmail: StepHandler<'SEND_EMAIL'> = async (step, visit, state, env) => {
  const { templateId, from } = step.config;
  const { mail, mailFirst } = outsideCalls(state);
  for (;;) {
    const result = await withJournal(state, async (journal): Promise<StepActivityResult> => {
      const request: SendEmailRequest = {
        executionId: state.executionId,
        journal,
        visit,
        after: env.after,
        templateId,
        from,
        context: state.context,
        now: Date.now(),
      };
      if (!mailFirst) return await mail.sendEmail(request);
      // The activity task's attempts look for what the first one did (the claim, a recorded email).
      return await firstLocallyThenTask(
        () => mailFirst.sendEmail(request),
        () => mail.sendEmail({ ...request, earlierAttempt: true }),
        { failsForGood: MAIL_FAILS_FOR_GOOD },
      );
    });
    if (result.done || result.reason !== 'quiet') return settle(result, env);
    // Held: WAITING until the quiet period ends (the step history and the Web UI show why); settings
    // may change meanwhile, so the activity judges again then.
    const output = { heldForQuietHoursUntil: result.until, zone: result.zone };
    await waitDurably(state, step, visit, result.until, output, `held for quiet hours until ${result.until} (${result.zone})`);
    state.record(visit, 'RUNNING');
  }
};
