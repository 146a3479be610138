/** The worker bootstrap: registers the interpreter workflow and the activities on the task queue. */
import fs from 'node:fs';
import path from 'node:path';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

export interface WorkerHandle {
  worker: Worker;
  /** Resolves when the worker has stopped (after `shutdown()`); rejects if it crashed. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The workflow code to run: the bundle `npm run build` made (compiled `dist/`), else the workflow
 * module, bundled at start (`workflows.ts` from the sources).
 */
function workflowCode(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = path.join(__dirname, 'workflow-bundle.js');
  if (fs.existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  const module = ['workflows.js', 'workflows.ts'].map((f) => path.join(__dirname, f)).find((p) => fs.existsSync(p));
  return { workflowsPath: module ?? path.join(__dirname, 'workflows.js') };
}

/** Creates and runs a worker; `bundle` is a prebuilt workflow bundle (tests build it once). */
export async function startWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  bundle?: WorkerOptions['workflowBundle'];
  /** On shutdown: how long activities in flight may run on before they are cancelled (and retried elsewhere). */
  shutdownGraceMs?: number;
}): Promise<WorkerHandle> {
  const graceMs = options.shutdownGraceMs ?? 0;
  // Ends the grace period: SMTP and HTTP calls still running are aborted and their attempts fail
  // retryably (Temporal retries them elsewhere at once, rather than after a timeout).
  const stopping = new AbortController();
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.bundle ? { workflowBundle: options.bundle } : workflowCode()),
    activities: createActivities({ ...options.deps, stopping: stopping.signal }),
    // A cancel reaches an activity with the answer to its heartbeat: forwarded at most a second
    // apart (not 80 % of the heartbeat timeout), a cancel reaches a call within about two seconds.
    maxHeartbeatThrottleInterval: '1 second',
    shutdownGraceTime: graceMs,
    // An activity that ignores its cancellation cannot hold the process for ever.
    shutdownForceTime: graceMs + 15_000,
  });
  const done = worker.run();
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      const grace = setTimeout(() => stopping.abort(), graceMs);
      try {
        await done;
      } finally {
        clearTimeout(grace);
      }
    },
  };
}
