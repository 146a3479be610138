/** P3's baseline: a bare workflow that marks its contact, sleeps until `wakeAt`, and marks it again. */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { BaselineActivities } from './baseline-activities';

const { baselineUpdateContact } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30 seconds' });

export async function baselineTimerWorkflow(input: { contactId: string; wakeAt: number }): Promise<void> {
  await baselineUpdateContact(input.contactId, { entered: true });
  // Workflow time: the same instant for every run, whenever its first task ran.
  const remaining = input.wakeAt - Date.now();
  if (remaining > 0) await sleep(remaining);
  await baselineUpdateContact(input.contactId, { woke: true });
}
