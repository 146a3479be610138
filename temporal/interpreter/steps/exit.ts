/** EXIT: ends the execution as EXITED with the step's reason. */
import { enterStatus, flush, type StepHandler } from '../handler';

export const exit: StepHandler = async (step, visit, state) => {
  const reason = typeof step.config.reason === 'string' && step.config.reason !== '' ? step.config.reason : 'exit_step';
  state.record(visit, 'COMPLETED', { output: { reason } });
  enterStatus(state, 'EXITED', step.id, { exitReason: reason, completed: true });
  await flush(state);
  return { exitReason: reason, finished: true };
};
