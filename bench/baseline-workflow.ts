/** The benchmark's hand-written baseline: a fixed two-activity workflow (update the contact, send the email). */
import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './baseline-activities';

const { baselineUpdateContact, baselineSendEmail } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30 seconds',
});

export async function baselineWorkflow(input: { contactId: string; email: string; data: Record<string, unknown> }): Promise<void> {
  await baselineUpdateContact(input.contactId, input.data);
  await baselineSendEmail(input.email);
}
