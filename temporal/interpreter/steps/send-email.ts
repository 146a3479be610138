/** SEND_EMAIL: renders the template for the contact and sends it (the activity records the email). */
import { setCurrentDetails, sleep } from '@temporalio/workflow';
import type { QuietHold, StepRecord } from '../../../core/execution';
import type { GraphStep } from '../../../core/graph';
import { outsideCalls } from '../activities';
import { enterStatus, flush, settle, withJournal, type StepHandler } from '../handler';
import type { ExecutionState } from '../state';

export const sendEmail: StepHandler<'SEND_EMAIL'> = async (step, visit, state, env) => {
  const { templateId, from } = step.config;
  const { mail } = outsideCalls();
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
    // Settings may change meanwhile: the activity judges again when the period ends.
    await holdForQuietHours(step, visit, state, result);
  }
};

/** Waits (WAITING, durable) until a quiet period ends; the step history and the Web UI show why. */
export async function holdForQuietHours(step: GraphStep, visit: StepRecord, state: ExecutionState, hold: QuietHold): Promise<void> {
  state.record(visit, 'WAITING', { output: { heldForQuietHoursUntil: hold.until, zone: hold.zone } });
  enterStatus(state, 'WAITING', step.id);
  await flush(state);
  setCurrentDetails(`**${step.name}** (${step.type}) — held for quiet hours until ${hold.until} (${hold.zone}), step ${visit.seq}`);
  await sleep(Date.parse(hold.until) - Date.now());
  setCurrentDetails(`**${step.name}** (${step.type}) — step ${visit.seq}`);
  state.record(visit, 'RUNNING');
  enterStatus(state, 'RUNNING', step.id);
}
