/** History purges, one bounded batch per call (driven by temporal/purge-workflows.ts). */
import { PURGE_BATCH, type PurgeBatch, type PurgeScope } from '../core/retention';
import { purgeEmails, purgeEvents, purgeExecutions, purgeExpiredIdempotencyKeys } from '../db/purge';
import type { ActivityDeps } from './deps';

const DAY_MS = 86_400_000;

export function purgeActivities({ database }: ActivityDeps) {
  const { db } = database;
  return {
    async purgeHistoryBatch(scope: PurgeScope, limit = PURGE_BATCH): Promise<PurgeBatch> {
      if (scope.kind === 'workflow') {
        const n = await purgeExecutions(db, { workflowId: scope.workflowId, statuses: scope.statuses, before: new Date(scope.before) }, limit);
        return { executions: n, events: 0, emails: 0, idempotencyKeys: 0, more: n === limit };
      }
      const idempotencyKeys = await purgeExpiredIdempotencyKeys(db, limit);
      if (scope.days === undefined) return { executions: 0, events: 0, emails: 0, idempotencyKeys, more: idempotencyKeys === limit };
      const before = new Date(Date.now() - scope.days * DAY_MS);
      const batch = {
        idempotencyKeys,
        executions: await purgeExecutions(db, { before }, limit),
        events: await purgeEvents(db, before, limit),
        emails: await purgeEmails(db, before, limit),
      };
      return { ...batch, more: Object.values(batch).some((n) => n === limit) };
    },
  };
}
