/**
 * P6: a whole audience enrolled by one schedule tick. A SCHEDULE workflow (TRIGGER → UPDATE_CONTACT)
 * over N subscribed contacts is triggered once; measured are the contacts enrolled per second until
 * every execution is started in Temporal (its enrolment COMPLETED and no start left in the outbox),
 * against a bare loop that starts N two-activity workflows on the same server, and the peak RSS of
 * the Trellis worker process (a fresh one per audience size), to show that memory stays flat.
 *
 *   npm run bench:p6     (BENCH_SIZES=2000,10000; BENCH_CONCURRENCY=200 for the baseline's loop)
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { scheduleIdOf } from '../core/enrolment';
import { openDatabase } from '../db/client';
import { baselineActivities } from './baseline-activities';
import { insertAudience, load, rssOf, runBench, sampleRss, startBench, startWithRetry, startWorkerProcess, until } from './support';

const SIZES = (process.env.BENCH_SIZES ?? '2000,10000').split(',').map(Number);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);

async function main(): Promise<void> {
  const bench = await startBench('p6');
  const { api } = bench;
  const pool = bench.trellis.database.pool;
  const env = bench.workerEnv;

  // The baseline: a bare loop of starts of a fixed two-activity workflow, its worker in this process.
  const database = openDatabase(bench.scratch.url);
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
  const nativeConnection = await NativeConnection.connect({ address: bench.temporal.address });
  const baselineWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue: 'bench-p6-baseline',
    workflowsPath: path.join(__dirname, 'baseline-workflow.ts'),
    activities: countingActivities(),
  });
  const baselineRun = baselineWorker.run();
  const client = new Client({ connection: await Connection.connect({ address: bench.temporal.address }) });

  async function baseline(n: number): Promise<number> {
    const project = await api('POST', '/admin/projects', 'bench', { name: `baseline ${n}` });
    const ids = await insertAudience(bench, project.id, n, `b${n}`);
    const doneBefore = baselineDone;
    const t0 = performance.now();
    await load(n, CONCURRENCY, (i) =>
      startWithRetry(client, 'baselineWorkflow', {
        taskQueue: 'bench-p6-baseline',
        workflowId: `baseline-${n}-${i}-${randomUUID()}`,
        args: [{ contactId: ids[i]!, email: `b${n}-${i}@bench.test`, data: { seen: true } }],
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
    await insertAudience(bench, project.id, n, `t${n}`);
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
  await database.close();
  await bench.close();
}

runBench(main);
