/**
 * The worker bootstrap: two Temporal workers in one process over one workflow bundle — the
 * executions' (the interpreter, its activities) on the task queue, and audience enrolments on a task
 * queue of their own, so a tick's batches never wait behind the thousands of execution tasks they
 * start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { WorkerTuning } from '../app/config';
import { enrolmentTaskQueue } from '../core/enrolment';
import { workflowBundleOptions } from './bundle-options';

export interface WorkerHandle {
  /** The executions' worker; `getState()` is the process's readiness. */
  worker: Worker;
  /** The audience enrolments' worker (on `enrolmentTaskQueue(taskQueue)`). */
  enrolmentWorker: Worker;
  /** Resolves when both workers have stopped (after `shutdown()`); rejects if one crashed. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Enrolment batches are one long transaction each over up to 500 contacts: two at a time is plenty,
 * and leaves the pool to the executions.
 */
const ENROLMENT_TUNING = { maxCachedWorkflows: 20, maxConcurrentWorkflowTaskExecutions: 2, maxConcurrentActivityTaskExecutions: 2 };

/**
 * Activity task polls: a quarter of the slots, from 1 to 4. Each poll waiting on the server holds a
 * slot, and a free slot is what lets the server hand a run's next activity to this worker in the
 * answer to the workflow task that scheduled it (eager dispatch), without a poll; with the SDK's ten
 * polls on fifteen slots, most activities went through a poll under load.
 */
export function activityPollers(slots: number): number {
  return Math.min(4, Math.max(1, Math.floor(slots / 4)));
}

/**
 * Workflow task polls on each of the worker's two queues (its sticky queue, and the task queue where
 * new runs and evicted ones wait): as many as the backlog the server reports asks for, up to half
 * the workflow task slots. A poll holds a slot while it waits. Uncapped, the sticky queue's polls
 * grew to 32 of the 40 slots while a round's runs took their later tasks there, and kept them, idle,
 * for the length of a long poll: the next burst of new runs then went through the one or two polls
 * left on the other queue (bench P1: rounds at 10–15 executions/s with the machine idle, against 40).
 */
export function workflowPollers(slots: number): { type: 'autoscaling'; maximum: number; initial: number } {
  const maximum = Math.max(1, Math.floor(slots / 2));
  // The SDK starts with five polls, which must not be above the maximum.
  return { type: 'autoscaling', maximum, initial: Math.min(5, maximum) };
}

/**
 * The workflow code to run: the bundle `npm run build` made (compiled `dist/`), else the workflow
 * module bundled now (`workflows.ts` from the sources) — once, for both workers.
 */
async function workflowCode(): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  const bundle = path.join(__dirname, 'workflow-bundle.js');
  if (fs.existsSync(bundle)) return { codePath: bundle };
  const module = ['workflows.js', 'workflows.ts'].map((f) => path.join(__dirname, f)).find((p) => fs.existsSync(p));
  return bundleWorkflowCode(workflowBundleOptions(module ?? path.join(__dirname, 'workflows.js')));
}

/** Creates and runs the workers; `bundle` is a prebuilt workflow bundle (tests build it once). */
export async function startWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  tuning: WorkerTuning;
  bundle?: WorkerOptions['workflowBundle'];
  /** Worker Versioning: the Worker Deployment Version this worker polls as (README, "Rolling out a new version"). */
  versioning?: { deploymentName: string; buildId: string; defaultBehavior: 'AUTO_UPGRADE' | 'PINNED' };
  /** On shutdown: how long activities in flight may run on before they are cancelled (and retried elsewhere). */
  shutdownGraceMs?: number;
}): Promise<WorkerHandle> {
  const { versioning } = options;
  const graceMs = options.shutdownGraceMs ?? 0;
  // Ends the grace period: SMTP and HTTP calls still running are aborted and their attempts fail
  // retryably (Temporal retries them elsewhere at once, rather than after a timeout).
  const stopping = new AbortController();
  // Begins it: a send's or a webhook's local first attempt then leaves its call to an activity task (another worker's).
  const shuttingDown = new AbortController();
  const workflowBundle = options.bundle ?? (await workflowCode());
  const activities = createActivities({ ...options.deps, stopping: stopping.signal, shuttingDown: shuttingDown.signal });
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    workflowBundle,
    activities,
    // A cancel reaches an activity with the answer to its heartbeat: forwarded at most a second
    // apart (not 80 % of the heartbeat timeout), a cancel reaches a call within about two seconds.
    maxHeartbeatThrottleInterval: '1 second',
    shutdownGraceTime: graceMs,
    // An activity that ignores its cancellation cannot hold the process for ever.
    shutdownForceTime: graceMs + 15_000,
    // Both workers belong to the same Worker Deployment Version: one build, two task queues.
    ...(versioning && {
      workerDeploymentOptions: {
        version: { deploymentName: versioning.deploymentName, buildId: versioning.buildId },
        useWorkerVersioning: true as const,
        defaultVersioningBehavior: versioning.defaultBehavior,
      },
    }),
  };
  const worker = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    maxCachedWorkflows: options.tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: options.tuning.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: options.tuning.maxConcurrentActivities,
    // Postgres steps run as local activities (interpreter/activities.ts), bounded the same way.
    maxConcurrentLocalActivityExecutions: options.tuning.maxConcurrentActivities,
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: activityPollers(options.tuning.maxConcurrentActivities) },
    // Polls that follow the backlog the server reports (workflowPollers). With a fixed ten, the SDK
    // keeps two on the queue of new runs (eight on this worker's sticky queue): a burst of new runs
    // then waited on those two while task slots stood idle (bench P1: 2–4 s of idle machine per 400 runs).
    workflowTaskPollerBehavior: workflowPollers(options.tuning.maxConcurrentWorkflowTasks),
    // A run's task waits this long for this worker before any worker may take it (with the whole
    // history). Short: with a backlog (a cancel-all) the SDK's 10 s left tasks waiting for this
    // worker while the machine stood idle (bench P4).
    stickyQueueScheduleToStartTimeout: options.tuning.stickyTimeoutMs,
  });
  const enrolmentWorker = await Worker.create({ ...common, taskQueue: enrolmentTaskQueue(options.taskQueue), ...ENROLMENT_TUNING });
  const workers = [worker, enrolmentWorker];
  const stopAll = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  // One crashed worker stops the other: the process then reports itself not ready as a whole.
  const runs = workers.map((w) =>
    w.run().catch((err: unknown) => {
      stopAll();
      throw err;
    }),
  );
  const done = Promise.allSettled(runs).then((results) => {
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
  return {
    worker,
    enrolmentWorker,
    done,
    async shutdown() {
      shuttingDown.abort();
      stopAll();
      const grace = setTimeout(() => stopping.abort(), graceMs);
      try {
        await done;
      } finally {
        clearTimeout(grace);
      }
    },
  };
}
