/**
 * Carries out the Temporal commands queued in the outbox (start, signal, cancel, terminate, and the
 * start of a segment computation or an audience enrolment). Every process runs one. A pass leases a
 * batch of due commands in one short transaction (db/outbox.ts), commits, then calls Temporal: no row
 * lock or connection is held meanwhile, and a dispatcher that dies leaves its lease to run out. The
 * deliveries of an event tracked through /v1/track are leased by the transaction that records it,
 * and its process sends them as soon as it commits (`send`), without waiting for a pass; a process
 * that dies first leaves them to a dispatcher once their lease runs out. A command that fails is
 * retried with backoff; Temporal unreachable or slow never counts against it, and one that can never
 * succeed (refused by Temporal, or failing MAX_ATTEMPTS times) goes to the dead letters with its
 * execution marked FAILED, while the commands of other executions flow on.
 */
import { eq, lte, sql } from 'drizzle-orm';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TypedSearchAttributes, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { type Database, detachedFromAbort } from '../db/client';
import {
  cancelRequested,
  type ClaimedCommand,
  claimCommands,
  completeCommands,
  deadLetterCommand,
  markCancelsRequested,
  retryCommand,
  type OutboxRow,
  type StartData,
} from '../db/outbox';
import type { Logger } from '../telemetry/logger';
import { dispatcherFailuresTotal, executionsStartedTotal, outboxCommandsTotal } from '../telemetry/metrics';
import { executions, outbox } from '../db/schema';
import { EVENT_SIGNAL, temporalWorkflowId, WORKFLOW_TYPE, type ExecutionInput, type TrackedEventSignal } from '../core/execution';
import type { GraphSnapshot } from '../core/graph';
import type { PurgeScope } from '../core/retention';
import { isActive } from '../core/statuses';
import { classifyFailure } from './command-failures';
import { startEnrolment } from './enrolment/client';
import { startWorkflowPurge } from './purge-client';
import { startSegmentComputation } from './segment-client';
import { contactEmailKey, contactIdKey, projectIdKey, statusKey, workflowIdKey } from './search-attributes';

const BATCH = 200;
/**
 * Cancels leased at once (db/outbox.ts claimCommands): each holds its place until its run records the
 * cancellation. Enough to keep a worker's task slots busy through a cancel-all, few enough that its
 * cancellations reach the workers as they take them.
 */
const CANCEL_WINDOW = 20;
/** How long a requested cancel holds its place in the window at most, awaiting its run. */
const CANCEL_HOLD_SECONDS = 10;
const CALL_DEADLINE_MS = 5000;
const POLL_MS = 1000;
/** Longer than a batch of calls can take (each bounded by CALL_DEADLINE_MS, all at once). */
const LEASE_SECONDS = 60;
/** Failed attempts (Temporal unreachable or slow not counted) before a command is a dead letter. */
export const MAX_ATTEMPTS = 8;
/** While Temporal is unreachable, how soon a command is tried again. */
const UNREACHABLE_RETRY_SECONDS = 2;

export interface Dispatcher {
  /** Asks for a pass now (after a commit that queued commands). */
  kick(): void;
  /** Carries out commands that the committed transaction leased to this process itself (db/outbox.ts queueLeasedSignals). */
  send(rows: ClaimedCommand[]): void;
  /** Runs passes until the outbox holds nothing due (a cancel Temporal accepted is not due while it awaits its run); for tests and shutdown. */
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
  /** Leased commands being sent (send): drain and stop wait for them. */
  const sending = new Set<Promise<unknown>>();

  /**
   * One batch; answers whether another may be due at once: the batch was full, or a command it
   * carried out had another queued behind it. False when Temporal is unreachable.
   */
  async function pass(): Promise<boolean> {
    const rows = await claimCommands(database.db, BATCH, LEASE_SECONDS, { window: CANCEL_WINDOW, holdSeconds: CANCEL_HOLD_SECONDS });
    if (rows.length === 0) return false;
    const { unreachable, moreDue } = await carryOutAll(rows, 'pass');
    // Temporal is down: leave the rest of the backlog for the next poll instead of churning through it.
    // (The cancels' lane is filled again as their runs acknowledge them: each kicks a pass.)
    return !unreachable && (rows.length >= BATCH || moreDue);
  }

  /**
   * Carries out leased commands at once; the done are deleted, the failed retried or dead-lettered.
   * `moreDue`: a command of a done one's execution was queued behind it and is due now, or a cancel
   * whose run was awake for it is gone and its place in the window free for the next.
   */
  async function carryOutAll(rows: ClaimedCommand[], by: 'pass' | 'sender'): Promise<{ unreachable: boolean; moreDue: boolean }> {
    const done: number[] = [];
    const requested: number[] = [];
    let started = 0;
    let unreachable = false;
    await Promise.all(
      rows.map(async (row) => {
        try {
          const outcome = await carryOut(row);
          if (outcome === 'started') started += 1;
          // A cancel Temporal accepted keeps its lease (its place in the window) until its run acknowledges it.
          (outcome === 'requested' ? requested : done).push(row.id);
          if (outcome !== 'dropped') outboxCommandsTotal.inc({ kind: row.kind, by });
        } catch (err) {
          unreachable = (await settleFailure(row, err)) === 'unreachable' || unreachable;
        }
      }),
    );
    const freed = await markCancelsRequested(database.db, requested);
    const { followed } = await completeCommands(database.db, done);
    executionsStartedTotal.inc(started);
    return { unreachable, moreDue: followed || freed };
  }

  async function settleFailure(row: OutboxRow, err: unknown): Promise<string> {
    const kind = classifyFailure(err);
    const reason = describe(err);
    dispatcherFailuresTotal.inc({ kind: row.kind });
    if (kind === 'permanent' || (kind === 'counted' && row.attempts + 1 >= MAX_ATTEMPTS)) {
      const message = `Temporal could not carry out the ${row.kind}: ${reason}`;
      const { moved } = await deadLetterCommand(database.db, row, message);
      if (moved) deps.logger.error({ kind: row.kind, executionId: row.executionId, attempts: row.attempts + 1, reason }, 'outbox command failed for good');
      return kind;
    }
    const delaySeconds = kind === 'unreachable' ? UNREACHABLE_RETRY_SECONDS : Math.min(30, 2 ** Math.min(row.attempts, 5));
    await retryCommand(database.db, row, { counted: kind === 'counted', delaySeconds, error: reason });
    if (row.attempts === 0 && row.lastError === null) {
      deps.logger.warn({ kind: row.kind, executionId: row.executionId, reason }, 'outbox command failed; retrying');
    }
    return kind;
  }

  /** Bounds a Temporal call, so an unreachable server does not hold the claimed rows for long. */
  function bounded<T>(call: () => Promise<T>): Promise<T> {
    return client.connection.withDeadline(Date.now() + CALL_DEADLINE_MS, call);
  }

  /** `dropped`: a cancel requested before, whose lease ran out without its run's acknowledgement (counted when it was requested). */
  async function carryOut(row: ClaimedCommand): Promise<'started' | 'requested' | 'dropped' | undefined> {
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
    if (row.kind === 'purge') {
      const { projectId, scope } = row.payload as { projectId: string; scope: PurgeScope };
      await bounded(() => startWorkflowPurge(client, { taskQueue, searchAttributes: withSearchAttributes }, row.executionId, { projectId, scope }));
      return undefined;
    }
    const handle = client.workflow.getHandle(temporalWorkflowId(row.executionId));
    if (row.kind === 'start') {
      // Erased, or cancelled before it ever started: nothing to run.
      if (!row.start || !isActive(row.start.status)) return;
      await start(row.executionId, row.start);
      return 'started';
    }
    if (row.kind === 'cancel') {
      // Requested before, and its lease ran out before its run acknowledged it: Temporal has it.
      if (cancelRequested(row)) return 'dropped';
      try {
        await bounded(() => handle.cancel());
        return 'requested';
      } catch (err) {
        // Closed already (or never started): nothing to acknowledge it.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      return;
    }
    if (row.kind === 'terminate') {
      try {
        await bounded(() => handle.terminate((row.payload as { reason?: string }).reason));
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
        // Still active here but gone from Temporal (terminated outside Trellis, which the reconciler
        // records shortly) → retried, counted; already finished → dropped.
        const [exec] = await database.db.select({ status: executions.status }).from(executions).where(eq(executions.id, row.executionId));
        if (exec && isActive(exec.status)) throw new Error(`the run is not in Temporal: ${describe(err)}`);
      }
      return;
    }
    throw new Error(`unknown outbox command "${row.kind}"`);
  }

  async function start(executionId: string, e: StartData): Promise<void> {
    const input: ExecutionInput = {
      executionId,
      projectId: e.projectId,
      workflowId: e.workflowId,
      workflowName: e.workflowName,
      contactId: e.contactId,
      contactEmail: e.contactEmail,
      context: e.context,
      graph: e.graph as GraphSnapshot,
      ...(e.openedWait ? { openedWait: e.openedWait } : {}),
    };
    // Already started means an earlier pass (or a dispatcher whose lease ran out) started it but never
    // deleted the row: that start is this row's.
    try {
      await bounded(() =>
        client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: temporalWorkflowId(executionId),
          // One execution never runs twice: a second start, even after the run closed, is refused.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          args: [input],
          memo: { workflowName: e.workflowName, contactEmail: e.contactEmail },
          ...(withSearchAttributes
            ? {
                typedSearchAttributes: new TypedSearchAttributes([
                  { key: workflowIdKey, value: e.workflowId },
                  { key: contactIdKey, value: e.contactId },
                  { key: contactEmailKey, value: e.contactEmail },
                  // WAITING when enrolment opened its first step, a wait.
                  { key: statusKey, value: e.status },
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
    // Kicked by a local activity, the pass must not end with that activity's attempt (db/client.ts).
    running = detachedFromAbort(async () => {
      try {
        do {
          again = false;
          while (!stopped && (await pass()));
        } while (again && !stopped);
      } catch (err) {
        dispatcherFailuresTotal.inc({ kind: 'pass' });
        deps.logger.error({ err }, 'outbox dispatcher pass failed');
      } finally {
        running = undefined;
      }
    });
    return running;
  }

  const timer = setInterval(() => void run(), POLL_MS);
  timer.unref();

  return {
    kick: () => void run(),
    send(rows) {
      // Like a pass, it must not end with the request or activity that sent it (db/client.ts).
      const sent = detachedFromAbort(() =>
        carryOutAll(rows, 'sender').then(
          // A command queued behind a sent one (an event that followed at once) goes on at once.
          ({ moreDue }) => {
            if (moreDue) void run();
          },
          (err: unknown) => {
            // The rows keep their lease, which runs out: a dispatcher sends them then.
            dispatcherFailuresTotal.inc({ kind: 'send' });
            deps.logger.error({ err }, 'sending leased outbox commands failed');
          },
        ),
      );
      sending.add(sent);
      void sent.finally(() => sending.delete(sent));
    },
    async drain() {
      for (;;) {
        await Promise.all(sending);
        await run();
        const [due] = await database.db.select({ n: sql<number>`count(*)::int` }).from(outbox).where(lte(outbox.availableAt, sql`now()`));
        if (!due || due.n === 0) return;
        // Cancels wait for places in their window, which their runs free as they record the cancellation.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([running, ...sending]);
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
