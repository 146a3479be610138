/** DELAY: a durable Temporal timer; the execution shows WAITING meanwhile. */
import { sleep } from '@temporalio/workflow';
import { delayMilliseconds } from '../../../core/delay';
import { enterStatus, flush, type StepHandler } from '../handler';

export const delay: StepHandler<'DELAY'> = async (step, visit, state) => {
  const ms = delayMilliseconds(step.config);
  state.record(visit, 'WAITING');
  enterStatus(state, 'WAITING', step.id);
  await flush(state);
  await sleep(ms);
  state.record(visit, 'COMPLETED', { output: { waitedMs: ms } });
  enterStatus(state, 'RUNNING', step.id);
  return {};
};
