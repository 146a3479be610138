/**
 * Workflows that keep stored segment membership current in pages, so that no run holds a project's
 * contacts in memory or in one history: continue-as-new every PAGES_PER_RUN pages or when Temporal
 * suggests it. Workflow code only.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RefreshCursor, SegmentComputationInput } from '../core/segment';

/** Keyset pages of contacts: each is one short transaction. */
const PAGE_SIZE = 500;
const PAGES_PER_RUN = 100;

const pages = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const timeToRenew = (done: number, pagesPerRun = PAGES_PER_RUN) => done >= pagesPerRun || workflowInfo().continueAsNewSuggested;

/**
 * Computes one generation of a segment's membership over every contact of its project; stops at once
 * when a newer generation (a filter change) or a deletion makes it stale.
 */
export async function segmentComputation(input: SegmentComputationInput): Promise<'done' | 'stale'> {
  let after = input.after ?? null;
  const limit = input.pageSize ?? PAGE_SIZE;
  for (let done = 0; ; done++) {
    if (timeToRenew(done, input.pagesPerRun)) await continueAsNew<typeof segmentComputation>({ ...input, after });
    const page = await pages.computeSegmentPage({ segmentId: input.segmentId, generation: input.generation, after, limit });
    if (page.status !== 'more') return page.status;
    after = page.after;
  }
}

/** Re-evaluates every segment with a time-relative filter, page by page (started by the refresh Schedule). */
export async function segmentRefresh(input: { cursor: RefreshCursor }): Promise<void> {
  let cursor = input.cursor;
  for (let done = 0; ; done++) {
    if (timeToRenew(done)) await continueAsNew<typeof segmentRefresh>({ cursor });
    ({ cursor } = await pages.refreshTimedSegmentsPage({ cursor, limit: PAGE_SIZE }));
    if (cursor === null) return;
  }
}
