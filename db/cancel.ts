/** Cancelling executions from the API: CANCELLED in Postgres at once, Temporal's cancellation queued. */
import { sql, type SQL } from 'drizzle-orm';
import { executionsFinishedTotal } from '../telemetry/metrics';
import { onCommit, type Tx } from './client';
import { executions, outbox, stepExecutions } from './schema';

/** Cancels of at most this many executions at once are queued ahead of larger ones. */
const AHEAD_OF_BULK = 20;

/**
 * Marks every active execution matching `where` CANCELLED (with its open step) and answers how many
 * it cancelled. An execution whose start is still queued loses that start and needs nothing from
 * Temporal; every other one gets a queued Temporal cancellation. Activities check the status
 * first, so none runs a further step.
 *
 * One set-based statement, whatever the number: the ids never travel to the client and back as
 * bind parameters (Postgres takes at most 65,535 of them in one statement). A start that a
 * dispatcher is carrying out at this moment is row-locked: the delete waits for it, finds it gone,
 * and the cancellation is queued after all.
 */
export async function cancelExecutions(tx: Tx, where: SQL): Promise<number> {
  const result = await tx.execute<{ cancelled: number }>(sql`
    with cancelled as (
      update ${executions} set status = 'CANCELLED', completed_at = now()
      where ${where} and ${executions.status} in ('RUNNING', 'WAITING')
      returning ${executions.id}
    ), open_steps as (
      update ${stepExecutions} set status = 'CANCELLED', completed_at = now()
      where ${stepExecutions.executionId} in (select id from cancelled) and ${stepExecutions.status} in ('RUNNING', 'WAITING')
    ), unstarted as (
      -- Only a start never tried: one that failed may have reached Temporal after all.
      -- Locked in id order, as a dispatcher's delete of the commands it carried out locks them.
      delete from ${outbox}
      where ${outbox.id} in (
        select ${outbox.id} from ${outbox}
        where ${outbox.kind} = 'start' and ${outbox.attempts} = 0 and ${outbox.executionId} in (select id from cancelled)
        order by ${outbox.id}
        for update)
      returning ${outbox.executionId}
    ), queued as (
      -- A few (a DELETE of one execution, a contact's erasure) go ahead of a cancel-all's thousands,
      -- which the dispatcher's cancel window paces (db/outbox.ts claimCommands).
      insert into ${outbox} (kind, execution_id, available_at)
      select 'cancel', id, case when (select count(*) from cancelled) <= ${AHEAD_OF_BULK} then '-infinity'::timestamptz else now() end
      from cancelled where id not in (select execution_id from unstarted)
    )
    select count(*)::int as cancelled from cancelled`);
  const cancelled = result.rows[0]!.cancelled;
  if (cancelled > 0) onCommit(tx, () => executionsFinishedTotal.inc({ status: 'CANCELLED' }, cancelled));
  return cancelled;
}
