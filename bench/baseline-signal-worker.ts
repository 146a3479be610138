/**
 * P2's baseline worker, in a process of its own as Trellis's worker is, and started as it is
 * (support.ts, startBaselineWorkerProcess): baselineSignalWorkflow's runs on `bench-p2-baseline`,
 * whose activity makes the WEBHOOK's call (a POST on a new connection) to RECEIVER_URL/baseline/<id>.
 * Its workflow code is the bundle at WORKFLOW_BUNDLE, prebuilt as Trellis's worker's is
 * (scripts/bundle-workflows.ts); its cache holds WORKER_MAX_CACHED_WORKFLOWS runs, as Trellis's
 * worker's. It loads none of Trellis's code.
 * Prints `baseline worker ready` once it polls; stops on SIGTERM.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { httpPoster } from './http-poster';

async function main(): Promise<void> {
  const receiverUrl = process.env.RECEIVER_URL!;
  const post = httpPoster(false);
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
    taskQueue: 'bench-p2-baseline',
    maxCachedWorkflows: Number(process.env.WORKER_MAX_CACHED_WORKFLOWS),
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE! },
    activities: {
      async baselineResumed(id: string) {
        await post(`${receiverUrl}/baseline/${id}`, undefined, {});
      },
    },
  });
  process.once('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  console.log('baseline worker ready');
  await running;
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
