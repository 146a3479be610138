/** EXIT: ends the execution as EXITED with the step's reason. */
import { enterStatus, flush, type StepHandler } from '../handler';

export const exit: StepHandler<'EXIT'> = async (step, visit, state) => {
  const reason = step.config.reason || 'exit_step';
  state.record(visit, 'COMPLETED', { output: { reason } });
  enterStatus(state, 'EXITED', step.id, { exitReason: reason, completed: true });
  await flush(state);
  return { exitReason: reason, finished: true };
};
