/** WAIT_FOR_EVENT: an event signal raced against a durable timer; `event` or `timeout` branch. */
import { condition } from '@temporalio/workflow';
import { enterStatus, flush, type StepHandler } from '../handler';

export const waitForEvent: StepHandler<'WAIT_FOR_EVENT'> = async (step, visit, state) => {
  const { eventName, timeout } = step.config;
  // Listen from the moment the step starts: only events received after that count.
  const inbox = state.listen(eventName);
  state.record(visit, 'WAITING');
  enterStatus(state, 'WAITING', step.id);
  await flush(state);
  const arrived = () => inbox.event !== undefined;
  // biome-ignore lint/complexity/noCommaOperator: without a timeout the wait ends only when the event arrived; kept as written so the interpreter's awaits stay as they are.
  const gotEvent = timeout === undefined ? (await condition(arrived), true) : await condition(arrived, timeout * 1000);
  state.stopListening();
  if (gotEvent && inbox.event) {
    const event = inbox.event;
    state.context = { ...state.context, ...event.data };
    state.record(visit, 'COMPLETED', { output: { outcome: 'event', eventId: event.eventId } });
    enterStatus(state, 'RUNNING', step.id, { context: state.context });
    return { branch: 'event' };
  }
  state.record(visit, 'COMPLETED', { output: { outcome: 'timeout' } });
  enterStatus(state, 'RUNNING', step.id);
  return { branch: 'timeout' };
};
