/**
 * WEBHOOK: one HTTP call, retried on 5xx/408/429/timeouts (5 attempts in all); its JSON becomes the
 * step's output. The first attempt runs locally, in the workflow task that reached the step; a failure
 * a retry could mend goes on, after the policy's first backoff, as an activity task whose attempts
 * look for what the first one did.
 */
import type { StepActivityResult } from '../../../core/execution';
import type { WebhookRequest } from '../../../activities/webhook';
import { firstLocallyThenTask, HTTP_FAILS_FOR_GOOD, HTTP_FIRST_BACKOFF_MS, outsideCalls, webhookFirstLocal } from '../activities';
import { settle, withJournal, type StepHandler } from '../handler';

export const webhook: StepHandler<'WEBHOOK'> = async (step, visit, state, env) => {
  const { http } = outsideCalls(state);
  const httpFirst = webhookFirstLocal(state);
  const result = await withJournal(state, async (journal): Promise<StepActivityResult> => {
    const request: WebhookRequest = {
      executionId: state.executionId,
      journal,
      visit,
      after: env.after,
      config: step.config,
      context: state.context,
      workflow: { id: state.input.workflowId, name: state.input.workflowName },
    };
    if (!httpFirst) return await http.callWebhook(request);
    return await firstLocallyThenTask(
      () => httpFirst.first.callWebhook(request),
      () => httpFirst.rest.callWebhook({ ...request, earlierAttempt: true }),
      { failsForGood: HTTP_FAILS_FOR_GOOD, backoffMs: HTTP_FIRST_BACKOFF_MS },
    );
  });
  return settle(result, env);
};
