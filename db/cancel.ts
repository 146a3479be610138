/** Cancelling executions from the API: CANCELLED in Postgres at once, Temporal's cancellation queued. */
import { and, inArray, sql, type SQL } from 'drizzle-orm';
import { ACTIVE_STATUSES } from '../core/statuses';
import { executionsFinishedTotal } from '../telemetry/metrics';
import { onCommit, type Tx } from './client';
import { queueCommands } from './outbox';
import { executions, stepExecutions } from './schema';

/**
 * Marks every active execution matching `where` CANCELLED (with its open step), and queues the
 * Temporal cancellation of each. Activities check the status first, so none runs a further step.
 */
export async function cancelExecutions(tx: Tx, where: SQL): Promise<string[]> {
  const cancelled = await tx
    .update(executions)
    .set({ status: 'CANCELLED', completedAt: sql`now()` })
    .where(and(where, inArray(executions.status, [...ACTIVE_STATUSES])))
    .returning({ id: executions.id });
  const ids = cancelled.map((c) => c.id);
  if (ids.length === 0) return ids;
  onCommit(tx, () => executionsFinishedTotal.inc({ status: 'CANCELLED' }, ids.length));
  await tx
    .update(stepExecutions)
    .set({ status: 'CANCELLED', completedAt: sql`now()` })
    .where(and(inArray(stepExecutions.executionId, ids), inArray(stepExecutions.status, ['RUNNING', 'WAITING'])));
  await queueCommands(tx, ids.map((executionId) => ({ kind: 'cancel' as const, executionId })));
  return ids;
}
