/**
 * P6: a whole audience enrolled by one schedule tick. A SCHEDULE workflow (TRIGGER → UPDATE_CONTACT)
 * over N subscribed contacts is triggered once; measured are the contacts enrolled per second until
 * every execution is started in Temporal (its enrolment COMPLETED and no start left in the outbox),
 * against a bare loop that starts N two-activity workflows on the same server, and the peak RSS of
 * the Trellis worker process (a fresh one per audience size), to show that memory stays flat.
 *
 *   npm run bench:p6     (BENCH_SIZES=2000,10000; BENCH_CONCURRENCY=200 for the baseline's loop)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../app/config';
import { startTrellis } from '../app/trellis';
import { scheduleIdOf } from '../core/enrolment';
import { openDatabase } from '../db/client';
import { runMigrations } from '../db/migrate';
import { createScratchDatabase, startTemporalDevServer } from '../scripts/local-servers';
import { baselineActivities } from './baseline-activities';

const SIZES = (process.env.BENCH_SIZES ?? '2000,10000').split(',').map(Number);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);
const PG_BASE = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const ROOT = path.resolve(__dirname, '..');
const TASK_QUEUE = 'bench-p6';

async function until(check: () => Promise<boolean>, every = 100): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, every));
}

/** Resident set size of a process, in MB (Linux /proc). */
function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/**
 * Samples a process's RSS every 50 ms: the peak of a window. (The kernel's own high-water mark
 * would include the worker's start, where bundling the workflow code dwarfs everything else.)
 */
function sampleRss(pid: number): { peak(): number; stop(): void } {
  let peak = rssOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  return { peak: () => Math.max(peak, rssOf(pid)), stop: () => clearInterval(timer) };
}

/** A Trellis worker (ROLE=worker) in a process of its own, so its memory is its own. */
async function startWorkerProcess(env: Record<string, string>): Promise<{ pid: number; stop(): Promise<void> }> {
  // 'info': the readiness line waited for below is an info line.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'app/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ROLE: 'worker', LOG_LEVEL: 'info', TEMPORAL_TASK_QUEUE: TASK_QUEUE, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until(async () => /trellis worker ready/.test(out) || child.exitCode !== null, 200);
  if (child.exitCode !== null) throw new Error(`worker exited: ${out}`);
  return {
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-p6-'));
  const temporal = await startTemporalDevServer({ dbFilename: path.join(dir, 'temporal.db'), fastSqlite: true });
  const scratch = await createScratchDatabase(PG_BASE, 'trellis_bench_p6');
  await runMigrations(scratch.url);
  const env = { DATABASE_URL: scratch.url, TEMPORAL_ADDRESS: temporal.address };
  // The API (with its outbox dispatcher) in this process; the worker in its own.
  const trellis = await startTrellis(
    loadConfig({ ...env, TEMPORAL_TASK_QUEUE: TASK_QUEUE, ROLE: 'api', HOST: '127.0.0.1', PORT: '0', ADMIN_API_KEY: 'bench', LOG_LEVEL: 'warn' }),
  );
  const api = async (method: string, p: string, key: string, body?: unknown) => {
    const res = await fetch(`${trellis.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as any;
  };
  const pool = trellis.database.pool;

  // The baseline: a bare loop of starts of a fixed two-activity workflow, its worker in this process.
  const database = openDatabase(scratch.url);
  let baselineDone = 0;
  // The baseline's two activities (update the contact, "send" through a transport that sends nothing), counting the ends.
  function countingActivities() {
    const inner = baselineActivities(database, nodemailer.createTransport({ jsonTransport: true }));
    return {
      ...inner,
      async baselineSendEmail(to: string) {
        await inner.baselineSendEmail(to);
        baselineDone += 1;
      },
    };
  }
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const baselineWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue: 'bench-p6-baseline',
    workflowsPath: path.join(__dirname, 'baseline-workflow.ts'),
    activities: countingActivities(),
  });
  const baselineRun = baselineWorker.run();
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });

  async function audience(projectId: string, n: number, tag: string): Promise<string[]> {
    const { rows } = await pool.query<{ id: string; email: string }>(
      `insert into contacts (project_id, email) select $1, $2 || '-' || i || '@bench.test' from generate_series(1, $3) i returning id, email`,
      [projectId, tag, n],
    );
    return rows.map((r) => r.id);
  }

  async function baseline(n: number): Promise<number> {
    const project = await api('POST', '/admin/projects', 'bench', { name: `baseline ${n}` });
    const ids = await audience(project.id, n, `b${n}`);
    const doneBefore = baselineDone;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          const i = next++;
          await client.workflow.start('baselineWorkflow', {
            taskQueue: 'bench-p6-baseline',
            workflowId: randomUUID(),
            args: [{ contactId: ids[i]!, email: `b${n}-${i}@bench.test`, data: { seen: true } }],
          });
        }
      }),
    );
    const rate = n / ((performance.now() - t0) / 1000);
    await until(async () => baselineDone - doneBefore >= n, 200);
    return rate;
  }

  async function tick(n: number, drain: boolean): Promise<{ rate: number; enrolSeconds: number; idle: number; peak: number }> {
    const worker = await startWorkerProcess(env);
    const idle = rssOf(worker.pid);
    const project = await api('POST', '/admin/projects', 'bench', { name: `p6 ${n}` });
    const sk = project.secretKey as string;
    await audience(project.id, n, `t${n}`);
    const wf = await api('POST', '/workflows', sk, { name: `p6 ${n}`, eventName: 'unused' });
    const step = await api('POST', `/workflows/${wf.id}/steps`, sk, { type: 'UPDATE_CONTACT', config: { data: { seen: true } } });
    await api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: wf.steps[0].id, toStepId: step.id });
    // Once a year: only the benchmark's trigger fires it.
    await api('PATCH', `/workflows/${wf.id}`, sk, { triggerType: 'SCHEDULE', triggerConfig: { cron: '0 0 1 1 *' }, enabled: true });

    const rss = sampleRss(worker.pid);
    const t0 = performance.now();
    let enrolSeconds = 0;
    await client.schedule.getHandle(scheduleIdOf(wf.id)).trigger();
    await until(async () => {
      const { rows } = await pool.query(
        `select (select count(*)::int from enrolments where workflow_id = $1 and status = 'COMPLETED') as done,
                (select count(*)::int from outbox where kind = 'start') as queued`,
        [wf.id],
      );
      if (rows[0].done === 1 && !enrolSeconds) enrolSeconds = (performance.now() - t0) / 1000;
      return rows[0].done === 1 && rows[0].queued === 0;
    });
    const rate = n / ((performance.now() - t0) / 1000);
    const peak = rss.peak();
    rss.stop();
    const { rows } = await pool.query(`select enrolled from enrolments where workflow_id = $1`, [wf.id]);
    if (rows[0].enrolled !== n) throw new Error(`enrolled ${rows[0].enrolled} of ${n}`);
    // Before the next size (a fresh worker), every execution of this one runs to its end.
    if (drain) {
      await until(async () => {
        const r = await pool.query(`select count(*)::int as n from executions where workflow_id = $1 and status = 'COMPLETED'`, [wf.id]);
        return r.rows[0].n === n;
      }, 500);
    }
    await worker.stop();
    return { rate, enrolSeconds, idle, peak };
  }

  console.log(`P6: one schedule tick enrolling N contacts (TRIGGER → UPDATE_CONTACT); baseline loop at concurrency ${CONCURRENCY}`);
  for (const n of SIZES) {
    const b = await baseline(n);
    const t = await tick(n, n !== SIZES[SIZES.length - 1]);
    console.log(
      `P6 N=${n}: baseline ${b.toFixed(0)} starts/s; Trellis ${t.rate.toFixed(0)} contacts enrolled and started/s (ratio ${(t.rate / b).toFixed(2)}; ` +
        `enrolment committed after ${t.enrolSeconds.toFixed(1)} s); worker RSS ${t.idle.toFixed(0)} MB idle, peak ${t.peak.toFixed(0)} MB until all started`,
    );
  }

  baselineWorker.shutdown();
  await baselineRun;
  await nativeConnection.close();
  await trellis.close();
  await database.close();
  await temporal.stop();
  await scratch.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
