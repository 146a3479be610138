/** WAIT_UNTIL: an activity fixes the instant (recorded in the history), then a durable timer waits for it. */
import { db } from '../activities';
import { ExecutionInactive, waitDurably, withJournal, type StepHandler } from '../handler';

export const waitUntil: StepHandler<'WAIT_UNTIL'> = async (step, visit, state) => {
  const { config } = step;
  const plan = await withJournal(state, (journal) =>
    db(state).planWaitUntil({ executionId: state.executionId, journal, visit, config, context: state.context, now: Date.now() }),
  );
  if (!plan.done) throw new ExecutionInactive('execution is no longer active');
  const output = { until: plan.until, zone: plan.zone };
  const ms = Date.parse(plan.until) - Date.now();
  if (ms > 0) await waitDurably(state, step, visit, plan.until, output, `waiting until ${plan.until} (${plan.zone})`);
  state.record(visit, 'COMPLETED', { output: { ...output, waited: ms > 0 } });
  return {};
};
