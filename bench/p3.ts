/**
 * P3 (issue 7): N runs waiting in a DELAY. Measured are the RSS of the Trellis worker process (its own
 * process, `npm start`'s build, default WORKER_* settings) while N runs enter TRIGGER → DELAY →
 * UPDATE_CONTACT and wait (goal < 400 MB at 10,000), and the wake-up throughput once their timers
 * have fired: the worker is stopped while they wait and a fresh one started after the timers fired,
 * so every run is replayed from its history — a worker's cache never holds 10,000 runs. The baseline
 * is the same for a bare workflow (one activity, a timer, one activity) and its own fresh worker.
 *
 *   npm run bench:p3     (BENCH_N=10000, BENCH_DELAY_MINUTES=5)
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { openDatabase } from '../db/client';
import { baselineActivities } from './baseline-activities';
import { insertAudience, load, rssOf, sampleRss, sleep, startBench, startWithRetry, startWorkerProcess, statusCounts, until, runBench } from './support';

const N = Number(process.env.BENCH_N ?? 10_000);
const DELAY_MINUTES = Number(process.env.BENCH_DELAY_MINUTES ?? 5);
const GOAL_MB = 400;

async function main(): Promise<void> {
  const bench = await startBench('p3');
  const { api } = bench;
  const project = await api('POST', '/admin/projects', 'bench', { name: 'p3' });
  const sk = project.secretKey as string;
  const ids = await insertAudience(bench, project.id, N, 'p3');

  // ── Trellis: N runs enter the DELAY, with one worker process up.
  const first = await startWorkerProcess(bench.workerEnv);
  const idle = rssOf(first.pid);
  const wf = await api('POST', '/workflows', sk, { name: 'p3', eventName: 'unused' });
  const delay = await api('POST', `/workflows/${wf.id}/steps`, sk, { type: 'DELAY', config: { amount: DELAY_MINUTES, unit: 'minutes' } });
  const mark = await api('POST', `/workflows/${wf.id}/steps`, sk, { type: 'UPDATE_CONTACT', config: { data: { woke: true } } });
  await api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: wf.steps[0].id, toStepId: delay.id });
  await api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: delay.id, toStepId: mark.id });
  await api('PATCH', `/workflows/${wf.id}`, sk, { triggerType: 'MANUAL', triggerConfig: {}, enabled: true });

  console.log(`P3: ${N} runs waiting in a ${DELAY_MINUTES}-minute DELAY (worker RSS idle ${idle.toFixed(0)} MB)`);
  const entering = sampleRss(first.pid);
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) await api('POST', `/workflows/${wf.id}/executions/bulk`, sk, { contactIds: ids.slice(i, i + 1000) });
  let counts: Record<string, number> = {};
  await until(async () => {
    counts = await statusCounts(bench, wf.id);
    return (counts.WAITING ?? 0) + (counts.COMPLETED ?? 0) === N;
  }, 500);
  const allWaitingAt = Date.now();
  const enterSeconds = (performance.now() - t0) / 1000;
  const enterPeak = entering.peak();
  entering.stop();
  // Settled: a minute with every run waiting (timers, nothing to do).
  const settled = sampleRss(first.pid);
  await sleep(Math.min(60_000, Math.max(0, DELAY_MINUTES * 60_000 - enterSeconds * 1000 - 30_000)));
  const waitingRss = rssOf(first.pid);
  const waitingPeak = settled.peak();
  settled.stop();
  await first.stop();
  const wokeEarly = counts.COMPLETED ?? 0;
  console.log(
    `P3 Trellis: ${N} runs entered the DELAY in ${enterSeconds.toFixed(0)} s (${(N / enterSeconds).toFixed(0)}/s); ` +
      `worker RSS peak ${enterPeak.toFixed(0)} MB while they entered, ${waitingPeak.toFixed(0)} MB peak / ${waitingRss.toFixed(0)} MB at the end while all waited ` +
      `(goal < ${GOAL_MB} MB: ${Math.max(enterPeak, waitingPeak) < GOAL_MB ? 'met' : 'NOT met'})` +
      (wokeEarly ? `; ${wokeEarly} woke before the last one entered` : ''),
  );

  // ── Baseline, while Trellis's timers run: N bare runs enter a timer with their own worker up.
  const database = openDatabase(bench.scratch.url);
  const nativeConnection = await NativeConnection.connect({ address: bench.temporal.address });
  const client = new Client({ connection: await Connection.connect({ address: bench.temporal.address }) });
  let entered = 0;
  let woken = 0;
  const inner = baselineActivities(database, nodemailer.createTransport({ jsonTransport: true }));
  const activities = {
    async baselineUpdateContact(contactId: string, data: Record<string, unknown>) {
      await inner.baselineUpdateContact(contactId, data);
      if (data.woke) woken += 1;
      else entered += 1;
    },
  };
  const baselineWorker = () =>
    Worker.create({
      connection: nativeConnection,
      taskQueue: 'bench-p3-baseline',
      workflowsPath: path.join(__dirname, 'baseline-timer-workflow.ts'),
      activities,
    });
  let worker = await baselineWorker();
  let run = worker.run();
  const wakeAt = Date.now() + DELAY_MINUTES * 60_000;
  const b0 = performance.now();
  await load(N, 200, async (i) => {
    await startWithRetry(client, 'baselineTimerWorkflow', { taskQueue: 'bench-p3-baseline', workflowId: randomUUID(), args: [{ contactId: ids[i]!, wakeAt }] });
  });
  await until(async () => entered === N, 200);
  const baselineEnterSeconds = (performance.now() - b0) / 1000;
  worker.shutdown();
  await run;
  const baselineWokeEarly = woken;

  // ── Wake-ups: a fresh worker after every timer fired; each run is replayed from its history.
  await until(async () => Date.now() > wakeAt + 10_000, 1000);
  worker = await baselineWorker();
  run = worker.run();
  const w0 = performance.now();
  await until(async () => woken === N, 200);
  const baselineWakeSeconds = (performance.now() - w0) / 1000;
  worker.shutdown();
  await run;
  const baselineRate = (N - baselineWokeEarly) / baselineWakeSeconds;

  await until(async () => Date.now() > allWaitingAt + DELAY_MINUTES * 60_000 + 10_000, 1000);
  const second = await startWorkerProcess(bench.workerEnv);
  const waking = sampleRss(second.pid);
  const t1 = performance.now();
  await until(async () => (await statusCounts(bench, wf.id)).COMPLETED === N, 500);
  const wakeSeconds = (performance.now() - t1) / 1000;
  const wakePeak = waking.peak();
  waking.stop();
  await second.stop();
  const trellisRate = (N - wokeEarly) / wakeSeconds;

  console.log(
    `P3 baseline (bare workflow: activity, timer, activity): ${N} entered in ${baselineEnterSeconds.toFixed(0)} s; ` +
      `${N - baselineWokeEarly} woke on a fresh worker in ${baselineWakeSeconds.toFixed(0)} s: ${baselineRate.toFixed(0)} wake-ups/s`,
  );
  console.log(
    `P3 Trellis (TRIGGER → DELAY → UPDATE_CONTACT): ${N - wokeEarly} woke on a fresh worker in ${wakeSeconds.toFixed(0)} s: ${trellisRate.toFixed(0)} wake-ups/s ` +
      `(ratio ${(trellisRate / baselineRate).toFixed(2)}); worker RSS peak while waking ${wakePeak.toFixed(0)} MB`,
  );
  console.log(
    `P3 worker RSS with ${N} runs waiting: ${Math.max(enterPeak, waitingPeak).toFixed(0)} MB at its peak (goal < ${GOAL_MB} MB); ` +
      `wake-up throughput ${(trellisRate / baselineRate).toFixed(2)} of the baseline's`,
  );

  await nativeConnection.close();
  await database.close();
  await bench.close();
}

runBench(main);
