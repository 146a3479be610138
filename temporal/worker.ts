/** The worker bootstrap: registers the interpreter workflow and the activities on the task queue. */
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

export interface WorkerHandle {
  worker: Worker;
  /** Resolves when the worker has stopped (after `shutdown()`); rejects if it crashed. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/** Path of the workflow module file: `workflows.js` in compiled `dist/`, `workflows.ts` in the sources. */
export const WORKFLOWS_PATH =
  ['workflows.js', 'workflows.ts'].map((f) => path.join(__dirname, f)).find((p) => fs.existsSync(p)) ?? path.join(__dirname, 'workflows.js');

/** Creates and runs a worker; `bundle` is a prebuilt workflow bundle (tests build it once). */
export async function startWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  bundle?: WorkerOptions['workflowBundle'];
}): Promise<WorkerHandle> {
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.bundle ? { workflowBundle: options.bundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(options.deps),
  });
  const done = worker.run();
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
