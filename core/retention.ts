/**
 * Purging history: the finished executions of one workflow on request (`DELETE
 * /workflows/:id/executions`), and with RETENTION_DAYS everything finished or recorded longer ago
 * than that, hourly. Both run as one Temporal workflow that deletes in bounded batches.
 */
import type { ExecutionStatus } from './statuses';

export const PURGE_WORKFLOW_TYPE = 'historyPurge';
/** Rows one batch deletes at most; a request for more is answered 202 and carried out in the background. */
export const PURGE_BATCH = 1000;
/** How long `/v1/track`'s idempotency keys are kept (SPEC §7.3). */
export const IDEMPOTENCY_TTL_HOURS = 24;
/** How often the retention schedule runs (always: it also forgets expired idempotency keys). */
export const RETENTION_INTERVAL = '1 hour';

export type PurgeScope =
  /** Finished executions of one workflow with one of `statuses`, finished before `before` (ISO). */
  | { kind: 'workflow'; workflowId: string; statuses: ExecutionStatus[]; before: string }
  /** Expired idempotency keys, and with `days` (RETENTION_DAYS) everything older than that. */
  | { kind: 'retention'; days?: number };

export interface PurgeInput {
  scope: PurgeScope;
  /** Rows purged by earlier runs of this purge (carried across continue-as-new). */
  purged?: number;
}

/** What one batch removed; `more` when any kind of row may remain. */
export interface PurgeBatch {
  executions: number;
  events: number;
  emails: number;
  idempotencyKeys: number;
  more: boolean;
}

export const purgeWorkflowId = (purgeId: string) => `trellis-purge-${purgeId}`;
export const retentionScheduleId = (taskQueue: string) => `trellis-retention-${taskQueue}`;
