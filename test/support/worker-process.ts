/** A Trellis worker as its own process (`app/main.ts`, ROLE=worker), for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import { waitFor } from './harness';
import { fileDatabaseUrl } from './file-databases';

const ROOT = path.resolve(__dirname, '../..');

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
  /** SIGKILL: no shutdown, no cleanup — as if the machine died. */
  kill(): Promise<void>;
}

/**
 * Starts a worker on `taskQueue` against the run's Postgres and Temporal (env overrides, e.g. a
 * TEMPORAL_ADDRESS through a proxy); resolves once it polls. Bundling the workflow code takes a
 * few seconds; a worker that exits fails at once with its output.
 */
export async function startWorkerProcess(taskQueue: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  // `--import tsx` keeps the worker in this child: the tsx CLI would run it in a grandchild, out of SIGKILL's reach.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'app/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: fileDatabaseUrl(),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      ROLE: 'worker',
      // 'info': the readiness line below is an info line.
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const w: WorkerProcess = {
    child,
    output: () => out,
    exited,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
  // ROLE=all (an env override) logs "trellis all ready".
  const ready = waitFor(async () => /trellis (worker|all) ready/.test(out), 'the worker process to be ready', 90_000);
  const died = exited.then(() => {
    throw new Error(`the worker exited (${child.exitCode ?? child.signalCode}):\n${out}`);
  });
  await Promise.race([ready, died]);
  died.catch(() => undefined);
  return w;
}
