/**
 * Carries out the Temporal commands queued in the outbox (start, signal, cancel, and the start of a
 * segment computation). Every process runs one; rows are claimed with SKIP LOCKED so several
 * dispatchers share the work, and a command that fails (Temporal unreachable) stays queued and is
 * retried with backoff.
 */
import { and, asc, eq, inArray, lt, lte, notExists, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { onCommit, type Database } from '../db/client';
import type { Logger } from '../telemetry/logger';
import { dispatcherFailuresTotal, executionsStartedTotal } from '../telemetry/metrics';
import { contacts, executions, outbox, workflowVersions, workflows } from '../db/schema';
import { EVENT_SIGNAL, temporalWorkflowId, WORKFLOW_TYPE, type ExecutionInput, type TrackedEventSignal } from '../core/execution';
import type { GraphSnapshot } from '../core/graph';
import { isActive } from '../core/statuses';
import { startEnrolment } from './enrolment/client';
import { startSegmentComputation } from './segment-client';
import { contactEmailKey, contactIdKey, projectIdKey, statusKey, workflowIdKey } from './search-attributes';

type OutboxRow = typeof outbox.$inferSelect;
interface StartRow {
  execution: typeof executions.$inferSelect;
  workflowName: string;
  contactEmail: string;
  graph: unknown;
}

const BATCH = 200;
const CALL_DEADLINE_MS = 5000;
const POLL_MS = 1000;

export interface Dispatcher {
  /** Asks for a pass now (after a commit that queued commands). */
  kick(): void;
  /** Runs passes until the outbox holds nothing due; for tests and shutdown. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a dispatcher that polls every second and runs at once when kicked. */
export function startDispatcher(deps: {
  database: Database;
  client: Client;
  taskQueue: string;
  /** False on a server without custom search attributes (the time-skipping test server). */
  searchAttributes?: boolean;
  logger: Logger;
}): Dispatcher {
  const { database, client, taskQueue } = deps;
  const withSearchAttributes = deps.searchAttributes !== false;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  async function pass(): Promise<number> {
    return database.db.transaction(async (tx) => {
      // Only the head of each execution's queue: its commands are carried out one at a time, in
      // order, whichever process claims them (a signal never overtakes its execution's start).
      const earlier = alias(outbox, 'earlier');
      const rows = await tx
        .select()
        .from(outbox)
        .where(
          and(
            lte(outbox.availableAt, sql`now()`),
            notExists(
              tx
                .select({ id: earlier.id })
                .from(earlier)
                .where(and(eq(earlier.executionId, outbox.executionId), lt(earlier.id, outbox.id))),
            ),
          ),
        )
        .orderBy(asc(outbox.id))
        .limit(BATCH)
        .for('update', { of: outbox, skipLocked: true });
      if (rows.length === 0) return 0;
      const starts = await loadStarts(rows.filter((r) => r.kind === 'start').map((r) => r.executionId));
      const done: number[] = [];
      let started = 0;
      const failed: OutboxRow[] = [];
      await Promise.all(
        rows.map(async (row) => {
          try {
            if ((await carryOut(row, starts)) === 'started') started += 1;
            done.push(row.id);
          } catch (err) {
            failed.push(row);
            dispatcherFailuresTotal.inc({ kind: row.kind });
            if (row.attempts === 0)
              deps.logger.warn({ kind: row.kind, executionId: row.executionId, reason: describe(err) }, 'outbox command failed; retrying');
          }
        }),
      );
      if (done.length) await tx.delete(outbox).where(inArray(outbox.id, done));
      for (const f of failed) {
        const delaySeconds = Math.min(30, 2 ** Math.min(f.attempts, 5));
        await tx
          .update(outbox)
          .set({ attempts: f.attempts + 1, availableAt: sql`now() + make_interval(secs => ${delaySeconds})` })
          .where(eq(outbox.id, f.id));
      }
      // Counted once this transaction commits the rows' deletion (see `start`).
      onCommit(tx, () => executionsStartedTotal.inc(started));
      return done.length;
    });
  }

  /** Bounds a Temporal call, so an unreachable server does not hold the claimed rows for long. */
  function bounded<T>(call: () => Promise<T>): Promise<T> {
    return client.connection.withDeadline(Date.now() + CALL_DEADLINE_MS, call);
  }

  async function carryOut(row: OutboxRow, starts: Map<string, StartRow>): Promise<'started' | undefined> {
    if (row.kind === 'compute-segment') {
      const { projectId, generation } = row.payload as { projectId: string; generation: number };
      const input = { segmentId: row.executionId, projectId, generation };
      await bounded(() => startSegmentComputation(client, { taskQueue, searchAttributes: withSearchAttributes }, input));
      return undefined;
    }
    if (row.kind === 'enrolment') {
      await startEnrolment({ database, client, taskQueue, searchAttributes: withSearchAttributes, bounded }, row.executionId);
      return undefined;
    }
    const handle = client.workflow.getHandle(temporalWorkflowId(row.executionId));
    if (row.kind === 'start') {
      const found = starts.get(row.executionId);
      // Erased, or cancelled before it ever started: nothing to run.
      if (!found || !isActive(found.execution.status)) return;
      await start(found);
      return 'started';
    }
    if (row.kind === 'cancel') {
      try {
        await bounded(() => handle.cancel());
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      return;
    }
    if (row.kind === 'signal') {
      try {
        await bounded(() => handle.signal(EVENT_SIGNAL, (row.payload as { event: TrackedEventSignal }).event));
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // Not started yet (its start is still queued elsewhere) → retry; already gone → drop.
        const [exec] = await database.db.select({ status: executions.status }).from(executions).where(eq(executions.id, row.executionId));
        if (exec && isActive(exec.status)) throw err;
      }
    }
  }

  /** What starting each execution of a batch needs, in one query. */
  async function loadStarts(ids: string[]): Promise<Map<string, StartRow>> {
    if (ids.length === 0) return new Map();
    const rows = await database.db
      .select({
        execution: executions,
        workflowName: workflows.name,
        contactEmail: contacts.email,
        graph: workflowVersions.graph,
      })
      .from(executions)
      .innerJoin(workflows, eq(workflows.id, executions.workflowId))
      .innerJoin(contacts, eq(contacts.id, executions.contactId))
      .innerJoin(workflowVersions, and(eq(workflowVersions.workflowId, executions.workflowId), eq(workflowVersions.version, executions.workflowVersion)))
      .where(inArray(executions.id, ids));
    return new Map(rows.map((r) => [r.execution.id, r]));
  }

  async function start(row: StartRow): Promise<void> {
    const e = row.execution;
    const input: ExecutionInput = {
      executionId: e.id,
      projectId: e.projectId,
      workflowId: e.workflowId,
      workflowName: row.workflowName,
      contactId: e.contactId,
      contactEmail: row.contactEmail,
      context: e.context,
      graph: row.graph as GraphSnapshot,
    };
    // Already started means an earlier pass started it but never committed the row's deletion (nor
    // counted it): that start is this row's, counted once now.
    try {
      await bounded(() =>
        client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: temporalWorkflowId(e.id),
          args: [input],
          memo: { workflowName: row.workflowName, contactEmail: row.contactEmail },
          ...(withSearchAttributes
            ? {
                typedSearchAttributes: new TypedSearchAttributes([
                  { key: workflowIdKey, value: e.workflowId },
                  { key: contactIdKey, value: e.contactId },
                  { key: contactEmailKey, value: row.contactEmail },
                  { key: statusKey, value: 'RUNNING' },
                  { key: projectIdKey, value: e.projectId },
                ]),
              }
            : {}),
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  function run(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          while (!stopped && (await pass()) > 0);
        } while (again && !stopped);
      } catch (err) {
        dispatcherFailuresTotal.inc({ kind: 'pass' });
        deps.logger.error({ err }, 'outbox dispatcher pass failed');
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  const timer = setInterval(() => void run(), POLL_MS);
  timer.unref();

  return {
    kick: () => void run(),
    async drain() {
      for (;;) {
        await run();
        const [due] = await database.db.select({ n: sql<number>`count(*)::int` }).from(outbox).where(lte(outbox.availableAt, sql`now()`));
        if (!due || due.n === 0) return;
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** An error's message with its causes (Temporal wraps gRPC errors). */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e && parts.length < 4; e = e.cause as typeof e) {
    if (e.message) parts.push(e.message);
  }
  return parts.join(': ');
}
