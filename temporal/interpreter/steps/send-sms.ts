/** SEND_SMS: renders the text for the contact and sends it (the activity records the message). */
import { outsideCalls } from '../activities';
import { settle, waitDurably, withJournal, type StepHandler } from '../handler';

export const sendSms: StepHandler<'SEND_SMS'> = async (step, visit, state, env) => {
  const { http } = outsideCalls(state);
  for (;;) {
    const result = await withJournal(state, (journal) =>
      http.sendSms({ executionId: state.executionId, journal, visit, after: env.after, config: step.config, context: state.context, now: Date.now() }),
    );
    if (result.done || result.reason !== 'quiet') return settle(result, env);
    // Held as a marketing email is: WAITING until the quiet period ends, then judged again.
    const output = { heldForQuietHoursUntil: result.until, zone: result.zone };
    await waitDurably(state, step, visit, result.until, output, `held for quiet hours until ${result.until} (${result.zone})`);
    state.record(visit, 'RUNNING');
  }
};
