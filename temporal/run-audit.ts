/**
 * The reconciler's second half: executions that Postgres shows active are compared, a page at a
 * time, with what Temporal has, and each difference is repaired:
 * - no run, and nothing but the TRIGGER recorded: the start was lost (or never carried out), so it
 *   is queued again;
 * - no run after the execution got further: Temporal no longer has it (namespace retention, a
 *   deleted run), so it ends FAILED with that reason;
 * - a run that closed while the projection still says active (its last write was lost): the
 *   projection takes the run's status.
 * No transaction is held while Temporal is asked; each repair is one conditional update.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import { temporalWorkflowId } from '../core/execution';
import type { Database } from '../db/client';
import { queueCommands } from '../db/outbox';
import { executionsFinishedTotal } from '../telemetry/metrics';

/** How long an execution may go without a Temporal run before it counts as a difference. */
export const AUDIT_GRACE_MS = 5 * 60_000;
const PAGE = 100;
const CONCURRENCY = 10;

type Repair = 'restarted' | 'failed' | 'closed' | undefined;

/** Audits executions page by page, resuming where the last call stopped; answers how many it repaired. */
export function createRunAudit(deps: { database: Database; client: Client }) {
  const { database, client } = deps;
  let after = '00000000-0000-0000-0000-000000000000';

  async function candidates(): Promise<{ id: string; steps: number }[]> {
    const { rows } = await database.db.execute<{ id: string; steps: number }>(sql`
      select e.id, (select count(*)::int from step_executions s where s.execution_id = e.id) as steps
      from executions e
      where e.status in ('RUNNING', 'WAITING') and e.id > ${after}
        and e.started_at < now() - make_interval(secs => ${AUDIT_GRACE_MS / 1000})
        and not exists (select 1 from outbox o where o.execution_id = e.id)
      order by e.id limit ${PAGE}`);
    after = rows.length === PAGE ? rows[rows.length - 1]!.id : '00000000-0000-0000-0000-000000000000';
    return rows;
  }

  async function repair(execution: { id: string; steps: number }): Promise<Repair> {
    let status: string;
    try {
      status = (await client.workflow.getHandle(temporalWorkflowId(execution.id)).describe()).status.name;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      return execution.steps <= 1 ? restart(execution.id) : close(execution.id, 'FAILED', 'the Temporal run no longer exists');
    }
    if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') return undefined;
    // Terminated and timed-out runs are the first half's; these closed through workflow code.
    if (status === 'COMPLETED') return close(execution.id, 'COMPLETED', null);
    if (status === 'CANCELLED') return close(execution.id, 'CANCELLED', null);
    if (status === 'FAILED') return close(execution.id, 'FAILED', 'the Temporal run failed without recording why');
    return undefined;
  }

  /** Queues the start again, if the execution is still active and nothing is queued for it. */
  async function restart(id: string): Promise<Repair> {
    return database.db.transaction(async (tx) => {
      const { rows } = await tx.execute(sql`
        select 1 from executions where id = ${id} and status in ('RUNNING', 'WAITING')
          and not exists (select 1 from outbox where execution_id = ${id})
        for update`);
      if (rows.length === 0) return undefined;
      await queueCommands(tx, [{ kind: 'start', executionId: id }]);
      return 'restarted';
    });
  }

  /** Ends the execution (and its open step) with `status`, if it is still active. */
  async function close(id: string, status: 'COMPLETED' | 'CANCELLED' | 'FAILED', error: string | null): Promise<Repair> {
    const { rows } = await database.db.execute<{ n: number }>(sql`
      with closed as (
        update executions set status = ${status}, error = coalesce(${error}, error), completed_at = now()
        where id = ${id} and status in ('RUNNING', 'WAITING')
        returning id
      ), open_steps as (
        update step_executions set status = ${status}, error = ${error}, completed_at = now()
        where execution_id in (select id from closed) and status in ('RUNNING', 'WAITING')
      )
      select count(*)::int as n from closed`);
    if (rows[0]!.n === 0) return undefined;
    executionsFinishedTotal.inc({ status });
    return status === 'FAILED' ? 'failed' : 'closed';
  }

  return {
    /** Audits the next page; answers the repairs it made. */
    async page(): Promise<{ restarted: number; closed: number }> {
      const page = await candidates();
      let restarted = 0;
      let closed = 0;
      for (let i = 0; i < page.length; i += CONCURRENCY) {
        const results = await Promise.all(page.slice(i, i + CONCURRENCY).map(repair));
        restarted += results.filter((r) => r === 'restarted').length;
        closed += results.filter((r) => r === 'failed' || r === 'closed').length;
      }
      return { restarted, closed };
    },
  };
}
