/** WAIT_UNTIL: an activity fixes the instant (recorded in the history), then a durable timer waits for it. */
import { setCurrentDetails, sleep } from '@temporalio/workflow';
import { db } from '../activities';
import { enterStatus, ExecutionInactive, flush, withJournal, type StepHandler } from '../handler';

export const waitUntil: StepHandler<'WAIT_UNTIL'> = async (step, visit, state) => {
  const { config } = step;
  const plan = await withJournal(state, (journal) =>
    db.planWaitUntil({ executionId: state.executionId, journal, visit, config, context: state.context, now: Date.now() }),
  );
  if (!plan.done) throw new ExecutionInactive('execution is no longer active');
  const output = { until: plan.until, zone: plan.zone };
  const ms = Date.parse(plan.until) - Date.now();
  if (ms > 0) {
    state.record(visit, 'WAITING', { output });
    enterStatus(state, 'WAITING', step.id);
    await flush(state);
    setCurrentDetails(`**${step.name}** (WAIT_UNTIL) — waiting until ${plan.until} (${plan.zone}), step ${visit.seq}`);
    await sleep(ms);
    enterStatus(state, 'RUNNING', step.id);
  }
  state.record(visit, 'COMPLETED', { output: { ...output, waited: ms > 0 } });
  return {};
};
