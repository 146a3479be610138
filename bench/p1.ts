/**
 * P1 (SPEC §12): executions per second of TRIGGER → UPDATE_CONTACT → SEND_EMAIL enrolled through
 * /v1/track, against the smallest hand-written equivalent — an Express endpoint that stores the event
 * and starts a fixed two-activity Temporal workflow — at the same concurrency, on the same servers.
 *
 *   npm run bench     (BENCH_N=400, BENCH_CONCURRENCY=20, BENCH_ROUNDS=5; BENCH_VERBOSE=1 prints each round, its CPU by process and the Temporal server's requests per execution by operation)
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { count, eq, sql } from 'drizzle-orm';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../app/config';
import { startTrellis } from '../app/trellis';
import { openDatabase } from '../db/client';
import { runMigrations } from '../db/migrate';
import { contacts, events, executions } from '../db/schema';
import { createScratchDatabase, startTemporalDevServer } from '../scripts/local-servers';
import { baselineActivities } from './baseline-activities';
import { apiClient, cpuByProcess, cpuSince, postJson, temporalRequests, temporalRequestsSince } from './support';

const N = Number(process.env.BENCH_N ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const PG_BASE = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

/** CPU time this process used since `since`, in ms. */
function cpuMs(since: NodeJS.CpuUsage): string {
  const d = process.cpuUsage(since);
  return ((d.user + d.system) / 1000).toFixed(0);
}

/** Sends `n` requests with at most `concurrency` in flight. */
async function load(n: number, concurrency: number, send: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await send(next++);
    }),
  );
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

/** Stops the servers this run started (set once they are up). */
let cleanup: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-'));
  const temporal = await startTemporalDevServer({ dbFilename: path.join(dir, 'temporal.db'), sqlite: 'fast' });
  const { address } = temporal;
  const scratch = await createScratchDatabase(PG_BASE, 'trellis_bench');
  cleanup = async () => {
    await temporal.stop();
    await scratch.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const databaseUrl = scratch.url;
  await runMigrations(databaseUrl);

  let received = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // Each connection would otherwise wait for a reverse DNS look-up of 127.0.0.1 (a resolver the bench does not control).
    disableReverseLookup: true,
    logger: false,
    onData(stream, _s, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received += 1;
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as net.AddressInfo).port}`;

  const trellis = await startTrellis(
    loadConfig({
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: 'bench-trellis',
      HOST: '127.0.0.1',
      PORT: '0',
      SMTP_URL: smtpUrl,
      ADMIN_API_KEY: 'bench',
      LOG_LEVEL: 'warn',
      // The worker's own settings (WORKER_*, DATABASE_POOL_SIZE) from the bench's environment.
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('WORKER_') || k === 'DATABASE_POOL_SIZE')),
    }),
  );
  const api = apiClient(trellis.url!);
  const project = await api('POST', '/admin/projects', 'bench', { name: 'bench' });
  const sk = project.secretKey as string;
  const template = await api('POST', '/templates', sk, { name: 't', subject: 'Hi {{firstName}}', body: '<p>Hello {{firstName}}</p>', type: 'TRANSACTIONAL' });
  const wf = await api('POST', '/workflows', sk, { name: 'p1', eventName: 'p1', allowReentry: true });
  const trigger = wf.steps[0].id;
  const update = await api('POST', `/workflows/${wf.id}/steps`, sk, { type: 'UPDATE_CONTACT', config: { data: { seen: true } } });
  const send = await api('POST', `/workflows/${wf.id}/steps`, sk, { type: 'SEND_EMAIL', config: { templateId: template.id } });
  await api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: trigger, toStepId: update.id });
  await api('POST', `/workflows/${wf.id}/transitions`, sk, { fromStepId: update.id, toStepId: send.id });
  await api('PATCH', `/workflows/${wf.id}`, sk, { enabled: true });

  // The baseline: same process, same Postgres, same Temporal, its own task queue and worker.
  const database = openDatabase(databaseUrl);
  const transport = nodemailer.createTransport(smtpUrl);
  const nativeConnection = await NativeConnection.connect({ address });
  const baselineWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue: 'bench-baseline',
    workflowsPath: path.join(__dirname, 'baseline-workflow.ts'),
    activities: baselineActivities(database, transport),
  });
  const baselineRun = baselineWorker.run();
  const client = new Client({ connection: await Connection.connect({ address }) });
  const baseline = express();
  baseline.use(express.json());
  baseline.post('/track', async (req, res) => {
    const { event, email, data } = req.body as { event: string; email: string; data: Record<string, unknown> };
    const [contact] = await database.db
      .insert(contacts)
      .values({ projectId: project.id, email, data })
      .onConflictDoUpdate({ target: [contacts.projectId, contacts.email], set: { updatedAt: sql`now()` } })
      .returning({ id: contacts.id });
    await database.db.insert(events).values({ projectId: project.id, contactId: contact!.id, name: event, data });
    await client.workflow.start('baselineWorkflow', { taskQueue: 'bench-baseline', workflowId: randomUUID(), args: [{ contactId: contact!.id, email, data }] });
    res.json({ success: true });
  });
  const baselineServer = await new Promise<import('node:http').Server>((r) => {
    const s = baseline.listen(0, '127.0.0.1', () => r(s));
  });
  const baselineUrl = `http://127.0.0.1:${(baselineServer.address() as net.AddressInfo).port}`;

  const post = postJson;

  async function measureBaseline(tag: string): Promise<number> {
    const start = received;
    const requests0 = await temporalRequests(temporal.metricsUrl);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const all0 = cpuByProcess();
    await load(N, CONCURRENCY, (i) => post(`${baselineUrl}/track`, undefined, { event: 'p1', email: `b${tag}-${i}@bench.test`, data: { firstName: `B${i}` } }));
    const accepted = performance.now() - t0;
    const acceptCpu = cpuMs(cpu0);
    await until(async () => received - start >= N);
    if (process.env.BENCH_VERBOSE)
      console.log(
        `  baseline round ${tag}: requests answered after ${accepted.toFixed(0)} ms, done after ${(performance.now() - t0).toFixed(0)} ms, ${cpuMs(cpu0)} ms of this process's CPU (${acceptCpu} ms until answered); ${cpuSince(all0)}\n  Temporal requests per execution:\n${await temporalRequestsSince(temporal.metricsUrl, requests0, N)}`,
      );
    return N / ((performance.now() - t0) / 1000);
  }

  async function measureTrellis(tag: string): Promise<number> {
    const start = received;
    const requests0 = await temporalRequests(temporal.metricsUrl);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const all0 = cpuByProcess();
    await load(N, CONCURRENCY, (i) =>
      post(`${trellis.url}/v1/track`, project.publicKey, { event: 'p1', email: `t${tag}-${i}@bench.test`, data: { firstName: `T${i}` } }),
    );
    const accepted = performance.now() - t0;
    const acceptCpu = cpuMs(cpu0);
    // Every email arrived (counted in memory, like the baseline), then every execution is COMPLETED
    // (written right after the SMTP server accepts, in the same activity).
    await until(async () => received - start >= N);
    await until(async () => {
      const [row] = await database.db.select({ n: count() }).from(executions).where(eq(executions.status, 'COMPLETED'));
      return row!.n >= N * (Number(tag) + 1);
    });
    if (process.env.BENCH_VERBOSE)
      console.log(
        `  Trellis round ${tag}: requests answered after ${accepted.toFixed(0)} ms, done after ${(performance.now() - t0).toFixed(0)} ms, ${cpuMs(cpu0)} ms of this process's CPU (${acceptCpu} ms until answered); ${cpuSince(all0)}\n  Temporal requests per execution:\n${await temporalRequestsSince(temporal.metricsUrl, requests0, N)}`,
      );
    return N / ((performance.now() - t0) / 1000);
  }

  // A warm-up round of each, then the measured rounds, alternating.
  console.log(`P1: ${N} executions per round at concurrency ${CONCURRENCY} (warming up)`);
  await measureBaseline('w');
  await measureTrellis('0');
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const base: number[] = [];
  const ours: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    base.push(await measureBaseline(String(r)));
    ours.push(await measureTrellis(String(r)));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const b = median(base);
  const t = median(ours);
  // Each round's pair ran back to back: the median of their ratios is steadier than a ratio of
  // medians when the machine's speed drifts during the run (both are printed).
  const pairs = ours.map((x, i) => x / base[i]!);
  console.log(
    `P1 baseline (hand-written endpoint + two-activity workflow): ${b.toFixed(1)} executions/s  [rounds: ${base.map((x) => x.toFixed(1)).join(', ')}]`,
  );
  console.log(
    `P1 Trellis (/v1/track → TRIGGER → UPDATE_CONTACT → SEND_EMAIL):   ${t.toFixed(1)} executions/s  [rounds: ${ours.map((x) => x.toFixed(1)).join(', ')}]`,
  );
  console.log(
    `P1 ratio Trellis / baseline: ${median(pairs).toFixed(2)} (goal ≥ 0.90)  [median of the rounds' ratios: ${pairs.map((x) => x.toFixed(2)).join(', ')}; ratio of the medians ${(t / b).toFixed(2)}]`,
  );

  baselineServer.close();
  baselineWorker.shutdown();
  await baselineRun;
  await nativeConnection.close();
  transport.close();
  await trellis.close();
  await database.close();
  smtp.close();
  await temporal.stop();
  await scratch.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(async (err) => {
  console.error(err);
  // No orphan dev server or database left behind.
  await cleanup?.().catch(() => undefined);
  process.exit(1);
});
