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
 * thread) and is printed but not counted. Goal: Trellis's p50 and p99 ≤ 1.5× the baseline's.
 *
 * The bench's requests go over one kept-alive node:http connection (fetch's own cost, about half a
 * millisecond a request, is the client's, not Trellis's; the baseline signals with Temporal's native
 * client).
 *
 *   npm run bench:p2     (BENCH_N=500, BENCH_SETTLE_MS=100; BENCH_VERBOSE=1 also prints how soon /v1/track answered, more percentiles, the slowest events and where their time went in their runs' histories; BENCH_TRACE=1 prints each event's wall-clock moments, sent, answered and arrived, to line up with Postgres's statement log)
 */
import http from 'node:http';
import type net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { temporalWorkflowId } from '../core/execution';
import { insertAudience, keepAlivePoster, runBench, startApiProcess, startBench, startBenchProcess, startWorkerProcess, statusCounts, until } from './support';

/**
 * 500 a side: the p99 is then the fifth slowest event, not the second (at 200 it swung by half or
 * more from run to run), and four in five woken runs are replayed from their histories, as most
 * are when a whole list waits (the cache holds 100).
 */
const N = Number(process.env.BENCH_N ?? 500);
const GOAL = 1.5;
/** The pause after each run has closed, before the next event (either side's). */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 100);
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

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

async function main(): Promise<void> {
  const bench = await startBench('p2', { RATE_LIMIT_TRACK_PER_SECOND: '1000000' });
  const project = await bench.api('POST', '/admin/projects', 'bench', { name: 'p2' });
  const sk = project.secretKey as string;

  // The receiver the resumed runs call, on either side: the path names the contact (Trellis) or the run (/baseline/<i>).
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

  const ids = await insertAudience(bench, project.id, N, 'p2');
  await bench.api('POST', `/workflows/${wf.id}/executions/bulk`, sk, { contactIds: ids });
  await until(async () => (await statusCounts(bench, wf.id)).WAITING === N, 500);
  const trackUrl = `${trackApi.url}/v1/track`;
  const postJson = keepAlivePoster();
  const { rows: runs } = await bench.trellis.database.pool.query<{ id: string; contactId: string }>(
    `select id, contact_id as "contactId" from executions where workflow_id = $1`,
    [wf.id],
  );
  const runOf = new Map(runs.map((r) => [r.contactId, bench.trellis.client.workflow.getHandle(temporalWorkflowId(r.id))]));
  // A run whose first step is the wait is WAITING from its enrolment on, its start still in the
  // outbox: the events begin once every run has started and taken its first task, as the baseline's.
  await until(async () => (await bench.trellis.database.pool.query(`select 1 from outbox limit 1`)).rows.length === 0, 200);
  const runHandles = [...runOf.values()];
  await until(async () => {
    for (let i = 0; i < runHandles.length; i += 50) {
      const described = await Promise.all(runHandles.slice(i, i + 50).map((h) => h.describe()));
      if (described.some((d) => d.raw.pendingWorkflowTask)) return false;
    }
    return true;
  }, 200);

  // ── Baseline: the same server, a bare workflow waiting on a signal, then one activity that makes
  // the WEBHOOK's call: a POST to the same receiver on a new connection, as Trellis's client makes it.
  // Its worker has a process of its own and the cache Trellis's worker has: with more runs waiting
  // than it holds, a woken run that was evicted is replayed from its history on either side.
  const bare = await startBenchProcess(
    'baseline-signal-worker.ts',
    {
      TEMPORAL_ADDRESS: bench.temporal.address,
      RECEIVER_URL: receiverUrl,
      ...(process.env.WORKER_MAX_CACHED_WORKFLOWS ? { WORKER_MAX_CACHED_WORKFLOWS: process.env.WORKER_MAX_CACHED_WORKFLOWS } : {}),
    },
    /baseline worker ready/,
  );
  const client = new Client({ connection: await Connection.connect({ address: bench.temporal.address }) });
  const handles = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      client.workflow.start('baselineSignalWorkflow', { taskQueue: 'bench-p2-baseline', workflowId: `p2-${i}-${randomUUID()}`, args: [String(i)] }),
    ),
  );
  // Every run has taken its first task and waits on its signal.
  await until(async () => {
    const described = await Promise.all(handles.slice(-10).map((h) => h.describe()));
    return described.every((d) => d.raw.pendingWorkflowTask === null || d.raw.pendingWorkflowTask === undefined);
  }, 200);
  console.log(`P2: ${N} runs waiting on each side; one event at a time, the two sides in turn, ${SETTLE_MS} ms after the previous run closed`);

  // In turn, so that whatever the machine or the server does meanwhile falls on both sides alike;
  // each event once the previous run has closed.
  const ours: number[] = [];
  const answered: number[] = [];
  const base: number[] = [];
  // Each event's wall-clock start on either side, to read the run's history against.
  const sentAt: number[] = [];
  const signalledAt: number[] = [];
  for (const [i, id] of ids.entries()) {
    const arrived = webhooks.expect(id);
    sentAt.push(Date.now());
    const t0 = performance.now();
    // insertAudience's addresses, in the order of its ids.
    await postJson(trackUrl, project.publicKey, { event: 'go', email: `p2-${i + 1}@bench.test` });
    answered.push(performance.now() - t0);
    const arrivedAt = await arrived;
    ours.push(arrivedAt - t0);
    if (process.env.BENCH_TRACE)
      console.log(
        `TRACE ${id} ${i + 1} sent ${(performance.timeOrigin + t0).toFixed(1)} answered ${(performance.timeOrigin + t0 + answered.at(-1)!).toFixed(1)} arrived ${(performance.timeOrigin + arrivedAt).toFixed(1)} total ${(arrivedAt - t0).toFixed(1)}`,
      );
    await runOf.get(id)!.result();
    await settle();

    const handle = handles[i]!;
    const activity = activityRuns.expect(String(i));
    signalledAt.push(Date.now());
    const t1 = performance.now();
    await handle.signal('go');
    base.push((await activity) - t1);
    await handle.result();
    await settle();
  }
  // The first event of each side warms its process up: shown, not counted.
  const [coldOurs, coldBase] = [ours.shift()!, base.shift()!];
  answered.shift();
  sentAt.shift();
  signalledAt.shift();
  if (process.env.BENCH_VERBOSE) {
    console.log(`  /v1/track answered after p50 ${percentile(answered, 50).toFixed(1)} ms, p99 ${percentile(answered, 99).toFixed(1)} ms`);
    console.log(`  Trellis p90 ${percentile(ours, 90).toFixed(1)} ms, p95 ${percentile(ours, 95).toFixed(1)} ms, p98 ${percentile(ours, 98).toFixed(1)} ms`);
    console.log(`  baseline p90 ${percentile(base, 90).toFixed(1)} ms, p95 ${percentile(base, 95).toFixed(1)} ms, p98 ${percentile(base, 98).toFixed(1)} ms`);
    const slowest = [...ours.keys()].sort((a, b) => ours[b]! - ours[a]!).slice(0, 5);
    console.log(
      `  Trellis's slowest (event #: total ms / answered ms / the baseline's next): ${slowest.map((i) => `#${i + 1} ${ours[i]!.toFixed(0)}/${answered[i]!.toFixed(0)}/${base[i]!.toFixed(0)}`).join(', ')}`,
    );
    // Where the time went: each history event after the event was sent, in ms from then.
    console.log('  histories (ms after the event was sent):');
    const median = [...ours.keys()].sort((a, b) => ours[a]! - ours[b]!)[Math.floor(ours.length / 2)]!;
    for (const i of [...slowest, median]) {
      const history = await runOf.get(ids[i + 1]!)!.fetchHistory();
      console.log(`    Trellis #${i + 1} (${ours[i]!.toFixed(0)} ms): ${timeline(history, sentAt[i]!)}`);
    }
    for (const i of [median, ...[...base.keys()].sort((a, b) => base[b]! - base[a]!).slice(0, 2)]) {
      const history = await handles[i + 1]!.fetchHistory();
      console.log(`    baseline #${i + 1} (${base[i]!.toFixed(0)} ms): ${timeline(history, signalledAt[i]!)}`);
    }
    // Every event's time split at the run's history: until the signal, until the worker took the
    // workflow task, the task itself, until the activity started, and from there until it arrived.
    // Trellis's WEBHOOK is a local activity, made inside the task: its last phase runs from the
    // task's start, and the two before it are not counted.
    const phases = async (history: temporal.api.history.v1.IHistory, since: number, total: number): Promise<number[]> => {
      const at = (type: string) => {
        const e = (history.events ?? []).find(
          (ev) =>
            (temporal.api.enums.v1.EventType[ev.eventType ?? 0] ?? '') === `EVENT_TYPE_${type}` &&
            Number(ev.eventTime?.seconds ?? 0) * 1000 + (ev.eventTime?.nanos ?? 0) / 1e6 >= since - 1,
        );
        return e ? Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6 - since : Number.NaN;
      };
      const taskStarted = at('WORKFLOW_TASK_STARTED');
      const activityStarted = at('ACTIVITY_TASK_STARTED');
      const signalled = at('WORKFLOW_EXECUTION_SIGNALED');
      if (Number.isNaN(activityStarted)) return [signalled, taskStarted - signalled, Number.NaN, Number.NaN, total - taskStarted];
      const points = [0, signalled, taskStarted, at('WORKFLOW_TASK_COMPLETED'), activityStarted, total];
      return points.slice(1).map((p, k) => p - points[k]!);
    };
    const names = ['to the signal', 'to the task', 'the task', 'to the activity', 'to its arrival'];
    const split = async (side: string, all: Promise<number[]>[]) => {
      const rows = await Promise.all(all);
      const cols = names.map((n, k) => {
        const xs = rows.map((r) => r[k]!).filter((x) => !Number.isNaN(x));
        return xs.length ? `${n} ${percentile(xs, 50).toFixed(0)}/${percentile(xs, 99).toFixed(0)}` : `${n} —`;
      });
      console.log(`  ${side} phases, p50/p99 ms: ${cols.join(', ')}`);
    };
    await split(
      'Trellis',
      ours.map(async (t, i) => phases(await runOf.get(ids[i + 1]!)!.fetchHistory(), sentAt[i]!, t)),
    );
    await split(
      'baseline',
      base.map(async (t, i) => phases(await handles[i + 1]!.fetchHistory(), signalledAt[i]!, t)),
    );
  }
  await worker.stop();
  await trackApi.stop();
  await bare.stop();
  receiver.close();
  await bench.close();

  const [b50, b99, o50, o99] = [percentile(base, 50), percentile(base, 99), percentile(ours, 50), percentile(ours, 99)];
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`P2 first event of each side (warm-up, not counted): Trellis ${ms(coldOurs)}, baseline ${ms(coldBase)}`);
  console.log(`P2 baseline (signal → an activity's call on a bare workflow): p50 ${ms(b50)}, p99 ${ms(b99)}`);
  console.log(`P2 Trellis (/v1/track → resumed WAIT_FOR_EVENT → WEBHOOK):  p50 ${ms(o50)}, p99 ${ms(o99)}`);
  console.log(`P2 ratio Trellis / baseline: p50 ${(o50 / b50).toFixed(2)}, p99 ${(o99 / b99).toFixed(2)} (goal ≤ ${GOAL.toFixed(1)})`);
}

runBench(main);
