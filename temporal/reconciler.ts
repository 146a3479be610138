/**
 * Finds executions whose Temporal run closed without running workflow code — terminated or timed
 * out from the Web UI or the CLI — and brings the projection in line (terminated → CANCELLED,
 * timed out → FAILED). Then audits a page of the executions Postgres shows active against Temporal
 * (run-audit.ts): a lost start is queued again, a run Temporal no longer has ends FAILED.
 */
import type { Client } from '@temporalio/client';
import { and, eq, inArray, min, sql } from 'drizzle-orm';
import { WORKFLOW_TYPE } from '../core/execution';
import { ACTIVE_STATUSES } from '../core/statuses';
import { onCommit, type Database } from '../db/client';
import { executions, stepExecutions } from '../db/schema';
import type { Logger } from '../telemetry/logger';
import { executionsFinishedTotal } from '../telemetry/metrics';
import { createRunAudit } from './run-audit';

/** An arbitrary constant: one reconciler pass at a time across all processes. */
const RECONCILER_LOCK = 7_311_520_412;
const PREFIX = 'trellis-execution-';

export interface ReconcilerPass {
  /** Executions closed because their run was terminated or timed out. */
  ended: number;
  /** Lost starts queued again, and executions closed because Temporal's run closed or is gone. */
  restarted: number;
  repaired: number;
}

export interface Reconciler {
  /** Runs one pass now. */
  pass(): Promise<ReconcilerPass>;
  stop(): void;
}

/** Starts passes every `intervalMs` (SPEC §6 asks for such closes to show within a minute). */
export function startReconciler(deps: {
  database: Database;
  client: Client;
  logger: Logger;
  intervalMs?: number;
  /** False: only the first half (terminated and timed-out runs). */
  audit?: boolean;
  onCommandsQueued?: () => void;
}): Reconciler {
  const { database, client, onCommandsQueued } = deps;

  const audit = deps.audit === false ? undefined : createRunAudit({ database, client });

  async function pass(): Promise<ReconcilerPass> {
    const ended = await closeEndedRuns();
    const audited = audit ? await audit.page() : { restarted: 0, closed: 0 };
    if (audited.restarted) onCommandsQueued?.();
    return { ended, restarted: audited.restarted, repaired: audited.closed };
  }

  async function closeEndedRuns(): Promise<number> {
    return database.db.transaction(async (tx) => {
      const [{ locked }] = (await tx.execute(sql`select pg_try_advisory_xact_lock(${RECONCILER_LOCK}) as locked`)).rows as [{ locked: boolean }];
      if (!locked) return 0;
      const [oldest] = await tx
        .select({ startedAt: min(executions.startedAt) })
        .from(executions)
        .where(inArray(executions.status, [...ACTIVE_STATUSES]));
      if (!oldest?.startedAt) return 0;
      // Any run that could still be active in Postgres closed after the oldest active one started.
      const since = new Date(oldest.startedAt.getTime() - 60_000).toISOString();
      const query = `WorkflowType='${WORKFLOW_TYPE}' AND (ExecutionStatus='Terminated' OR ExecutionStatus='TimedOut') AND CloseTime >= '${since}'`;
      let closed = 0;
      for await (const run of client.workflow.list({ query })) {
        if (!run.workflowId.startsWith(PREFIX)) continue;
        const id = run.workflowId.slice(PREFIX.length);
        const terminated = run.status.name === 'TERMINATED';
        const updated = await tx
          .update(executions)
          .set({
            status: terminated ? 'CANCELLED' : 'FAILED',
            ...(terminated ? {} : { error: 'the Temporal workflow timed out' }),
            completedAt: run.closeTime ?? sql`now()`,
          })
          .where(and(eq(executions.id, id), inArray(executions.status, [...ACTIVE_STATUSES])))
          .returning({ id: executions.id });
        if (updated.length === 0) continue;
        closed += 1;
        onCommit(tx, () => executionsFinishedTotal.inc({ status: terminated ? 'CANCELLED' : 'FAILED' }));
        await tx
          .update(stepExecutions)
          .set({ status: terminated ? 'CANCELLED' : 'FAILED', completedAt: run.closeTime ?? sql`now()` })
          .where(and(eq(stepExecutions.executionId, id), inArray(stepExecutions.status, ['RUNNING', 'WAITING'])));
      }
      return closed;
    });
  }

  const timer = setInterval(() => {
    pass().catch((err) => deps.logger.warn({ err }, 'reconciler pass failed'));
  }, deps.intervalMs ?? 20_000);
  timer.unref();
  return { pass, stop: () => clearInterval(timer) };
}
