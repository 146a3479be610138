/** Activities of audience enrolment: opening a schedule tick's enrolment, enrolling one batch. */
import { ENROLMENT_BATCH_SIZE, type EnrolmentBatchResult } from '../core/enrolment';
import { enrolBatch, openTick } from '../db/enrolments';
import type { ActivityDeps } from './deps';

export function enrolmentActivities({ database, onCommandsQueued, enrolmentBatchSize }: ActivityDeps) {
  return {
    /** The enrolment of a schedule tick (created once per tick), or null when the workflow no longer runs on a schedule. */
    async openScheduledEnrolment(req: { workflowId: string; scheduledAt: string }): Promise<{ enrolmentId: string; done: boolean } | null> {
      const row = await openTick(database.db, req.workflowId, new Date(req.scheduledAt));
      return row ? { enrolmentId: row.id, done: row.status !== 'RUNNING' } : null;
    },

    /** Enrols the next batch of an enrolment's audience in one transaction. */
    async enrolAudienceBatch(req: { enrolmentId: string }): Promise<EnrolmentBatchResult> {
      const { queued, ...result } = await enrolBatch(database.db, req.enrolmentId, enrolmentBatchSize ?? ENROLMENT_BATCH_SIZE);
      if (queued) onCommandsQueued();
      return result;
    },
  };
}
