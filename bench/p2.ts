/**
 * P2 (issue 7): how long an event takes to resume a waiting run. N runs wait in TRIGGER →
 * WAIT_FOR_EVENT → WEBHOOK; the bench tracks the awaited event with `POST /v1/track` and times until
 * the WEBHOOK (the resumed wait's next activity) reaches a local receiver. The baseline, on the same
 * dev server: N bare workflows waiting on a signal, then calling an activity that makes the same
 * call (a POST on a new connection to the same receiver); timed from `signal()` until the call
 * arrives. Each side's servers run in processes of their own: Trellis's API and worker, the
 * baseline's worker; the bench's process only sends the events and receives the calls (until
 * 2026-12-06 Trellis's API and the baseline's worker shared it with the client, each side's
 * collections falling on the other's events). One event at a time, Trellis and the baseline in turn, so that the same
 * moments of the machine fall on both; the next once the run has closed and the server has had
 * BENCH_SETTLE_MS (100) to finish with it. Sent at once, an event's workflow task waited 15–37 ms for
 * the server to hand it over (2 ms after a pause), and how long depended on the other side's
 * previous run: a baseline measured against Trellis's leftovers. Both workers keep
 * at most WORKER_MAX_CACHED_WORKFLOWS runs in memory (default 100, fewer than the runs waiting), so a
 * run evicted meanwhile is replayed from its history when its event comes, on either side. The
 * first event of each side warms its process up (connections, compiled code, Trellis's render
 * thread) and is printed but not counted. Goal: Trellis's p50 and p99 ≤ 1.5× the baseline's, over
 * the events of BENCH_ROUNDS rounds (each round's figures are printed too). The dev server's SQLite
 * flushes its log at every commit (TEMPORAL_SQLITE), and the baseline's worker runs compiled with
 * Trellis's worker's Node flags.
 *
 * The bench's requests go over one kept-alive node:http connection (fetch's own cost, about half a
 * millisecond a request, is the client's, not Trellis's; the baseline signals with Temporal's native
 * client).
 *
 *   npm run bench:p2     (BENCH_N=500, BENCH_ROUNDS=3, BENCH_SETTLE_MS=100, BENCH_TEMPORAL_SQLITE=durable; BENCH_VERBOSE=1 also prints how soon /v1/track answered, more percentiles, the slowest events and where their time went in their runs' histories; BENCH_TRACE=1 prints each event's wall-clock moments, sent, answered and arrived, to line up with Postgres's statement log)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import type net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { temporalWorkflowId } from '../core/execution';
import { WORKER_DEFAULTS } from '../app/config';
import { keepAlivePoster } from './http-poster';
import {
  insertAudience,
  runBench,
  startApiProcess,
  startBaselineWorkerProcess,
  startBench,
  npmStartFlags,
  startWorkerProcess,
  statusCounts,
  until,
  untilQuiet,
} from './support';

/**
 * 500 a side: the p99 is then the fifth slowest event, not the second (at 200 it swung by half or
 * more from run to run), and four in five woken runs are replayed from their histories, as most
 * are when a whole list waits (the cache holds 100).
 */
const N = Number(process.env.BENCH_N ?? 500);
/**
 * Rounds of N a side, each with runs of its own; the goal is judged on every round's events
 * together. One round's p99 is its fifth slowest event, and a burst of work elsewhere on the two
 * cores (a collection, the server's) moved it by a third either way from run to run of the same
 * code (2026-12-06, evening: 0.89–1.67 in five runs); three rounds' p99 is the fifteenth slowest of 1,497.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GOAL = 1.5;
/** The pause after each run has closed, before the next event (either side's). */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 100);
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
/**
 * The dev server's SQLite flushes its log at every commit, as a production persistence does: each
 * side's path then holds the durable writes it has in production, Trellis's Postgres commit and
 * signal, the baseline's signal and its workflow task's completion. With `fast` (BENCH_TEMPORAL_SQLITE,
 * every bench's server until 2026-12-07) only Trellis's Postgres commit reached the disk.
 */
const TEMPORAL_SQLITE = (() => {
  const value = process.env.BENCH_TEMPORAL_SQLITE ?? 'durable';
  if (value !== 'fast' && value !== 'durable') throw new Error(`BENCH_TEMPORAL_SQLITE must be fast or durable, not "${value}"`);
  return value;
})();

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A run's history events from `since` (epoch ms) on, each as its short type name and the ms after `since`. */
function timeline(history: temporal.api.history.v1.IHistory, since: number): string {
  return (history.events ?? [])
    .map((e) => ({
      type: temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType),
      at: Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6 - since,
    }))
    .filter((e) => e.at >= -1)
    .map((e) => `${e.type.replace('EVENT_TYPE_', '').toLowerCase()} ${e.at.toFixed(0)}`)
    .join(', ');
}

/** Resolves the waiter registered under an id when something arrives for it. */
function arrivals() {
  const waiting = new Map<string, () => void>();
  return {
    expect(id: string): Promise<number> {
      return new Promise((resolve) => waiting.set(id, () => resolve(performance.now())));
    },
    arrived(id: string) {
      waiting.get(id)?.();
      waiting.delete(id);
    },
  };
}

/** One event of either side: its time until the call arrived, and what the verbose report reads. */
interface Sample {
  ms: number;
  /** Trellis: how soon /v1/track answered. */
  answered?: number;
  /** Wall clock when it was sent, to read the run's history against. */
  sentAt: number;
  history: () => Promise<temporal.api.history.v1.IHistory>;
}

async function main(): Promise<void> {
  // The bench's own process collects as `npm start`'s do (its flags are V8's): with V8's own factor
  // its full collections came every 15–30 s, each 50–130 ms of CPU on a two-core machine, on
  // whichever side's event was in flight.
  for (const flag of npmStartFlags()) v8.setFlagsFromString(flag);
  const bench = await startBench('p2', { RATE_LIMIT_TRACK_PER_SECOND: '1000000' }, { sqlite: TEMPORAL_SQLITE });
  const project = await bench.api('POST', '/admin/projects', 'bench', { name: 'p2' });
  const sk = project.secretKey as string;

  // The receiver the resumed runs call, on either side: the path names the contact (Trellis) or the run (/baseline/<id>).
  const webhooks = arrivals();
  const activityRuns = arrivals();
  const receiver = http.createServer((req, res) => {
    const path = req.url!.slice(1);
    if (path.startsWith('baseline/')) activityRuns.arrived(path.slice('baseline/'.length));
    else webhooks.arrived(path);
    req.resume();
    req.once('end', () => res.writeHead(200).end('{}'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}`;

  const worker = await startWorkerProcess({ ...bench.workerEnv, WEBHOOK_ALLOW_PRIVATE: 'true' });
  // The events go to an API in a process of its own, as the runs go to a worker in one: the bench's
  // process only sends and receives (the bench's own API builds the workflow and enrols).
  const trackApi = await startApiProcess(bench, { RATE_LIMIT_TRACK_PER_SECOND: '1000000' });
  const wf = await bench.api('POST', '/workflows', sk, { name: 'p2', eventName: 'unused' });
  const wait = await bench.api('POST', `/workflows/${wf.id}/steps`, sk, { type: 'WAIT_FOR_EVENT', config: { eventName: 'go', timeout: 86_400 } });
  const call = await bench.api('POST', `/workflows/${wf.id}/steps`, sk, {
    type: 'WEBHOOK',
    config: { url: `${receiverUrl}/{{id}}`, method: 'POST' },
  });
  await bench.api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: wf.steps[0].id, toStepId: wait.id });
  await bench.api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: wait.id, toStepId: call.id, branch: 'event' });
  await bench.api('PATCH', `/workflows/${wf.id}`, sk, { triggerType: 'MANUAL', triggerConfig: {}, enabled: true });

  // ── Baseline: the same server, a bare workflow waiting on a signal, then one activity that makes
  // the WEBHOOK's call: a POST to the same receiver on a new connection, as Trellis's client makes it.
  // Its worker has a process of its own and the cache Trellis's worker has: with more runs waiting
  // than it holds, a woken run that was evicted is replayed from its history on either side.
  // Its workflow code is bundled beforehand by `npm run build`'s own step, in a process of its own:
  // until 2026-12-06 the baseline's worker ran webpack itself as it started, and the first round's
  // baseline events met that work's leftovers in its heap. The worker itself runs compiled, with
  // Trellis's worker's Node flags (until 2026-12-07 it ran through tsx, whose loader and source maps
  // followed it into the SDK's workflow thread, with Trellis's API modules in its heap).
  const baselineBundle = path.join(os.tmpdir(), `trellis-p2-baseline-${process.pid}.js`);
  const bundleStep = path.join(__dirname, '..', 'scripts', 'bundle-workflows.ts');
  execFileSync(process.execPath, ['--import', 'tsx', bundleStep, path.join(__dirname, 'baseline-signal-workflow.ts'), baselineBundle], { stdio: 'ignore' });
  const bare = await startBaselineWorkerProcess(
    'baseline-signal-worker.ts',
    {
      TEMPORAL_ADDRESS: bench.temporal.address,
      WORKFLOW_BUNDLE: baselineBundle,
      RECEIVER_URL: receiverUrl,
      WORKER_MAX_CACHED_WORKFLOWS: process.env.WORKER_MAX_CACHED_WORKFLOWS ?? String(WORKER_DEFAULTS.maxCachedWorkflows),
    },
    /baseline worker ready/,
  );
  const client = new Client({ connection: await Connection.connect({ address: bench.temporal.address }) });
  const trackUrl = `${trackApi.url}/v1/track`;
  const postJson = keepAlivePoster();

  /** N Trellis runs waiting in the WAIT_FOR_EVENT, each started in Temporal and past its first task; their contacts in order. */
  async function trellisRuns(round: number) {
    const tag = `p2r${round}`;
    const ids = await insertAudience(bench, project.id, N, tag);
    const enrolled = (await statusCounts(bench, wf.id)).WAITING ?? 0;
    await bench.api('POST', `/workflows/${wf.id}/executions/bulk`, sk, { contactIds: ids });
    await until(async () => (await statusCounts(bench, wf.id)).WAITING === enrolled + N, 500);
    const { rows } = await bench.trellis.database.pool.query<{ id: string; contactId: string }>(
      `select id, contact_id as "contactId" from executions where contact_id = any($1)`,
      [ids],
    );
    const runOf = new Map(rows.map((r) => [r.contactId, bench.trellis.client.workflow.getHandle(temporalWorkflowId(r.id))]));
    // A run whose first step is the wait is WAITING from its enrolment on, its start still in the
    // outbox: the events begin once every run has started and taken its first task, as the baseline's.
    await until(async () => (await bench.trellis.database.pool.query(`select 1 from outbox limit 1`)).rows.length === 0, 200);
    const handles = [...runOf.values()];
    await until(async () => {
      for (let i = 0; i < handles.length; i += 50) {
        const described = await Promise.all(handles.slice(i, i + 50).map((h) => h.describe()));
        if (described.some((d) => d.raw.pendingWorkflowTask)) return false;
      }
      return true;
    }, 200);
    return ids.map((id, i) => ({ id, email: `${tag}-${i + 1}@bench.test`, run: runOf.get(id)! }));
  }

  /** N bare runs waiting on their signal, each past its first task. */
  async function baselineRuns(round: number) {
    const handles = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        client.workflow.start('baselineSignalWorkflow', {
          taskQueue: 'bench-p2-baseline',
          workflowId: `p2-${round}-${i}-${randomUUID()}`,
          args: [`${round}-${i}`],
        }),
      ),
    );
    await until(async () => {
      const described = await Promise.all(handles.slice(-10).map((h) => h.describe()));
      return described.every((d) => d.raw.pendingWorkflowTask === null || d.raw.pendingWorkflowTask === undefined);
    }, 200);
    return handles.map((handle, i) => ({ key: `${round}-${i}`, handle }));
  }

  const ours: Sample[] = [];
  const base: Sample[] = [];
  const rounds: { o50: number; o99: number; b50: number; b99: number }[] = [];
  let cold: { ours: number; base: number } | undefined;
  for (let round = 1; round <= ROUNDS; round++) {
    const [trellis, bareRuns] = [await trellisRuns(round), await baselineRuns(round)];
    // The set-up's own work (a thousand starts, the server's tasks and the writes behind them) is
    // over before the first event, so that it falls on neither side's first events.
    const quiet = await untilQuiet();
    console.log(
      `P2 round ${round}: ${N} runs waiting on each side; ${quiet.quiet ? `the machine quiet after ${(quiet.ms / 1000).toFixed(1)} s` : `the machine still busy after ${(quiet.ms / 1000).toFixed(0)} s`}; one event at a time, the two sides in turn, ${SETTLE_MS} ms after the previous run closed`,
    );
    const roundOurs: Sample[] = [];
    const roundBase: Sample[] = [];
    // In turn, so that whatever the machine or the server does meanwhile falls on both sides alike;
    // each event once the previous run has closed.
    for (const [i, { id, email, run }] of trellis.entries()) {
      const arrived = webhooks.expect(id);
      const sentAt = Date.now();
      const t0 = performance.now();
      await postJson(trackUrl, project.publicKey, { event: 'go', email });
      const answered = performance.now() - t0;
      const arrivedAt = await arrived;
      roundOurs.push({ ms: arrivedAt - t0, answered, sentAt, history: () => run.fetchHistory() });
      if (process.env.BENCH_TRACE)
        console.log(
          `TRACE ${id} ${round}/${i + 1} sent ${(performance.timeOrigin + t0).toFixed(1)} answered ${(performance.timeOrigin + t0 + answered).toFixed(1)} arrived ${(performance.timeOrigin + arrivedAt).toFixed(1)} total ${(arrivedAt - t0).toFixed(1)}`,
        );
      await run.result();
      await settle();

      const { key, handle } = bareRuns[i]!;
      const activity = activityRuns.expect(key);
      const signalledAt = Date.now();
      const t1 = performance.now();
      await handle.signal('go');
      roundBase.push({ ms: (await activity) - t1, sentAt: signalledAt, history: () => handle.fetchHistory() });
      await handle.result();
      await settle();
    }
    // The first event of each side warms its process up: shown, not counted.
    if (!cold) cold = { ours: roundOurs.shift()!.ms, base: roundBase.shift()!.ms };
    const [o, b] = [roundOurs.map((x) => x.ms), roundBase.map((x) => x.ms)];
    rounds.push({ o50: percentile(o, 50), o99: percentile(o, 99), b50: percentile(b, 50), b99: percentile(b, 99) });
    ours.push(...roundOurs);
    base.push(...roundBase);
  }
  if (process.env.BENCH_VERBOSE) await report(ours, base);
  await worker.stop();
  await trackApi.stop();
  await bare.stop();
  fs.rmSync(baselineBundle, { force: true });
  receiver.close();
  await bench.close();

  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`P2 first event of each side (warm-up, not counted): Trellis ${ms(cold!.ours)}, baseline ${ms(cold!.base)}`);
  for (const [k, r] of rounds.entries()) {
    console.log(
      `P2 round ${k + 1}: baseline p50 ${ms(r.b50)}, p99 ${ms(r.b99)}; Trellis p50 ${ms(r.o50)}, p99 ${ms(r.o99)}; ratio p50 ${(r.o50 / r.b50).toFixed(2)}, p99 ${(r.o99 / r.b99).toFixed(2)}`,
    );
  }
  const [o, b] = [ours.map((x) => x.ms), base.map((x) => x.ms)];
  const [b50, b99, o50, o99] = [percentile(b, 50), percentile(b, 99), percentile(o, 50), percentile(o, 99)];
  console.log(`P2 baseline (signal → an activity's call on a bare workflow), ${b.length} events: p50 ${ms(b50)}, p99 ${ms(b99)}`);
  console.log(`P2 Trellis (/v1/track → resumed WAIT_FOR_EVENT → WEBHOOK), ${o.length} events:  p50 ${ms(o50)}, p99 ${ms(o99)}`);
  console.log(`P2 ratio Trellis / baseline over all rounds' events: p50 ${(o50 / b50).toFixed(2)}, p99 ${(o99 / b99).toFixed(2)} (goal ≤ ${GOAL.toFixed(1)})`);
}

/** BENCH_VERBOSE: how soon /v1/track answered, more percentiles, the slowest events and where their time went in their runs' histories. */
async function report(ours: Sample[], base: Sample[]): Promise<void> {
  const times = (xs: Sample[]) => xs.map((x) => x.ms);
  const answered = ours.map((x) => x.answered!);
  console.log(`  /v1/track answered after p50 ${percentile(answered, 50).toFixed(1)} ms, p99 ${percentile(answered, 99).toFixed(1)} ms`);
  for (const [side, xs] of [
    ['Trellis', ours],
    ['baseline', base],
  ] as const) {
    const t = times(xs);
    console.log(`  ${side} p90 ${percentile(t, 90).toFixed(1)} ms, p95 ${percentile(t, 95).toFixed(1)} ms, p98 ${percentile(t, 98).toFixed(1)} ms`);
  }
  const slowest = (xs: Sample[], n: number) => [...xs].sort((a, b) => b.ms - a.ms).slice(0, n);
  const median = (xs: Sample[]) => [...xs].sort((a, b) => a.ms - b.ms)[Math.floor(xs.length / 2)]!;
  console.log(
    `  Trellis's slowest (total ms / answered ms): ${slowest(ours, 5)
      .map((x) => `${x.ms.toFixed(0)}/${x.answered!.toFixed(0)}`)
      .join(', ')}`,
  );
  // Where the time went: each history event after the event was sent, in ms from then.
  console.log('  histories (ms after the event was sent):');
  for (const x of [...slowest(ours, 5), median(ours)]) console.log(`    Trellis (${x.ms.toFixed(0)} ms): ${timeline(await x.history(), x.sentAt)}`);
  for (const x of [median(base), ...slowest(base, 2)]) console.log(`    baseline (${x.ms.toFixed(0)} ms): ${timeline(await x.history(), x.sentAt)}`);
  // Every event's time split at the run's history: until the signal, until the worker took the
  // workflow task, the task itself, until the activity started, and from there until it arrived.
  // Trellis's WEBHOOK is a local activity, made inside the task: its last phase runs from the
  // task's start, and the two before it are not counted.
  const phases = async (x: Sample): Promise<number[]> => {
    const history = await x.history();
    const at = (type: string) => {
      const e = (history.events ?? []).find(
        (ev) =>
          (temporal.api.enums.v1.EventType[ev.eventType ?? 0] ?? '') === `EVENT_TYPE_${type}` &&
          Number(ev.eventTime?.seconds ?? 0) * 1000 + (ev.eventTime?.nanos ?? 0) / 1e6 >= x.sentAt - 1,
      );
      return e ? Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6 - x.sentAt : Number.NaN;
    };
    const taskStarted = at('WORKFLOW_TASK_STARTED');
    const activityStarted = at('ACTIVITY_TASK_STARTED');
    const signalled = at('WORKFLOW_EXECUTION_SIGNALED');
    if (Number.isNaN(activityStarted)) return [signalled, taskStarted - signalled, Number.NaN, Number.NaN, x.ms - taskStarted];
    const points = [0, signalled, taskStarted, at('WORKFLOW_TASK_COMPLETED'), activityStarted, x.ms];
    return points.slice(1).map((p, k) => p - points[k]!);
  };
  const names = ['to the signal', 'to the task', 'the task', 'to the activity', 'to its arrival'];
  for (const [side, xs] of [
    ['Trellis', ours],
    ['baseline', base],
  ] as const) {
    const rows: number[][] = [];
    for (let i = 0; i < xs.length; i += 50) rows.push(...(await Promise.all(xs.slice(i, i + 50).map(phases))));
    const cols = names.map((n, k) => {
      const v = rows.map((r) => r[k]!).filter((x) => !Number.isNaN(x));
      return v.length ? `${n} ${percentile(v, 50).toFixed(0)}/${percentile(v, 99).toFixed(0)}` : `${n} —`;
    });
    console.log(`  ${side} phases, p50/p99 ms: ${cols.join(', ')}`);
  }
}

runBench(main);
