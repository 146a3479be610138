/** P2's baseline: a bare workflow that waits for a signal, then calls one activity. */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

const { baselineResumed } = proxyActivities<{ baselineResumed(id: string): Promise<void> }>({ startToCloseTimeout: '30 seconds' });
export const go = defineSignal('go');

export async function baselineSignalWorkflow(id: string): Promise<void> {
  let signalled = false;
  setHandler(go, () => {
    signalled = true;
  });
  await condition(() => signalled);
  await baselineResumed(id);
}
