/**
 * The audience-enrolment workflow: enrols a bulk start's or a schedule tick's audience one batch
 * (one activity, one transaction) at a time. Its state is the enrolment's id only — the cursor lives
 * in Postgres — and it continues as new every few batches, so no audience size grows its history.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { AudienceEnrolmentInput, EnrolmentBatchResult } from '../../core/enrolment';
import { scheduledStartTimeKey } from '../search-attributes';

/** Batches per run before continuing as new (20 × 500 contacts). */
const BATCHES_PER_RUN = 20;

/** Postgres work only: retried until Postgres answers; a batch of 500 takes seconds. */
const { openScheduledEnrolment, enrolAudienceBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Enrols an audience in a workflow (SPEC §5.5 bulk starts, §7.2 schedule ticks). */
export async function audienceEnrolment(input: AudienceEnrolmentInput): Promise<{ enrolmentId: string | null }> {
  let enrolmentId: string;
  if ('tickOf' in input) {
    // A schedule's run carries the tick's time; a run started some other way uses its own start.
    const scheduledAt = workflowInfo().typedSearchAttributes.get(scheduledStartTimeKey) ?? workflowInfo().startTime;
    const opened = await openScheduledEnrolment({ workflowId: input.tickOf, scheduledAt: scheduledAt.toISOString() });
    if (!opened) return { enrolmentId: null };
    if (opened.done) return { enrolmentId: opened.enrolmentId };
    enrolmentId = opened.enrolmentId;
  } else {
    enrolmentId = input.enrolmentId;
  }
  for (let batches = 0; ; batches++) {
    if (batches >= BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof audienceEnrolment>({ enrolmentId });
    }
    const result: EnrolmentBatchResult = await enrolAudienceBatch({ enrolmentId });
    if (result.done) return { enrolmentId };
  }
}
