/**
 * A history purge: bounded batches until nothing is left, continuing as new every BATCHES_PER_RUN
 * batches (or when Temporal suggests it), so that no purge grows a long history. Workflow code only.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PurgeInput } from '../core/retention';

const BATCHES_PER_RUN = 100;

const { purgeHistoryBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Answers how many rows it purged in all (executions, events, emails and idempotency keys). */
export async function historyPurge(input: PurgeInput): Promise<number> {
  let purged = input.purged ?? 0;
  for (let done = 0; ; done++) {
    if (done >= BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested) await continueAsNew<typeof historyPurge>({ ...input, purged });
    const batch = await purgeHistoryBatch(input.scope);
    purged += batch.executions + batch.events + batch.emails + batch.idempotencyKeys;
    if (!batch.more) return purged;
  }
}
