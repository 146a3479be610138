/** Exit conditions (SPEC §14.3): ending active executions as EXITED in the transaction that reached their goal. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { ACTIVE_STATUSES } from '../core/statuses';
import { executionsFinishedTotal } from '../telemetry/metrics';
import { onCommit, type Tx } from './client';
import { executions, stepExecutions } from './schema';

/**
 * Records each execution EXITED with its reason and its open step CANCELLED, only while it is still
 * active. Every activity with a side effect checks that first, so no later step runs even before the
 * workflow hears of it (the caller queues the signal that ends the Temporal run).
 */
export async function exitExecutions(tx: Tx, exits: { executionId: string; reason: string }[]): Promise<void> {
  for (const { executionId, reason } of exits) {
    const ended = await tx
      .update(executions)
      .set({ status: 'EXITED', exitReason: reason, completedAt: sql`now()` })
      .where(and(eq(executions.id, executionId), inArray(executions.status, [...ACTIVE_STATUSES])))
      .returning({ id: executions.id });
    if (ended.length === 0) continue;
    await tx
      .update(stepExecutions)
      .set({ status: 'CANCELLED', completedAt: sql`now()` })
      .where(and(eq(stepExecutions.executionId, executionId), inArray(stepExecutions.status, ['RUNNING', 'WAITING'])));
    onCommit(tx, () => executionsFinishedTotal.inc({ status: 'EXITED' }));
  }
}
