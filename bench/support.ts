/**
 * What the benchmarks share: throwaway servers with Trellis's API in the bench process, a Trellis
 * worker in a process of its own (the production build, as `npm start` runs it), memory sampling and
 * small timing helpers. Every bench prints its figure beside its baseline from the same run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { build } from 'esbuild';
import { loadConfig } from '../app/config';
import { startTrellis, type Trellis } from '../app/trellis';
import { runMigrations } from '../db/migrate';
import { createScratchDatabase, type DevServer, type ScratchDatabase, startTemporalDevServer } from '../scripts/local-servers';

export const PG_BASE = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const ROOT = path.resolve(__dirname, '..');

export async function until(check: () => Promise<boolean>, every = 100): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, every));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/** Runs `n` calls of `send` with at most `concurrency` in flight. */
export async function load(n: number, concurrency: number, send: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await send(next++);
    }),
  );
}

/**
 * Starts a workflow as a bare loop would, retrying while an overloaded dev server answers late (the
 * same id each time, so a start that did land is not made twice).
 */
export async function startWithRetry(client: Client, workflowType: string, options: { taskQueue: string; workflowId: string; args: unknown[] }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.workflow.start(workflowType, options);
      return;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      if (attempt >= 10) throw err;
      await sleep(250 * attempt);
    }
  }
}

/** POSTs JSON (with a bearer key when given); throws unless the answer is 200. */
export async function postJson(url: string, key: string | undefined, body: unknown): Promise<void> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

/** A client of a Trellis API at `baseUrl`: answers' JSON bodies, throwing on any status from 300. */
export function apiClient(baseUrl: string) {
  return async (method: string, p: string, key: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${baseUrl}${p}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
}

/**
 * CPU time (ms) spent so far by the processes the benches share the machine with, grouped: the
 * Temporal dev server, Postgres (all its backends) and this process (Linux /proc; zeros elsewhere).
 * Postgres's figure includes the backends that exited meanwhile (counted with the postmaster that
 * reaped them).
 */
export function cpuByProcess(): { temporal: number; postgres: number; self: number; idle: number } {
  const totals = { temporal: 0, postgres: 0, self: 0, idle: machineIdleMs() };
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return totals;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const { comm, fields, ms } = parseStat(stat);
    if (Number(pid) === process.pid) totals.self += ms;
    else if (comm === 'temporal') totals.temporal += ms;
    // With the CPU of the backends that exited (the postmaster's reaped children).
    else if (comm === 'postgres') totals.postgres += ms + (Number(fields[13]) + Number(fields[14])) * TICK_MS;
  }
  return totals;
}

/** What `cpuByProcess` counted between `before` and now, as a line. */
export function cpuSince(before: ReturnType<typeof cpuByProcess>): string {
  const now = cpuByProcess();
  return `CPU ms: temporal ${now.temporal - before.temporal}, postgres ${now.postgres - before.postgres}, this process ${now.self - before.self}; machine idle ${now.idle - before.idle}`;
}

/** One USER_HZ tick (100 on Linux) in ms: the unit of /proc's CPU times. */
const TICK_MS = 1000 / 100;

/**
 * The machine's cores, and the idle and iowait time of all of them so far (ms), from /proc/stat's
 * first line (cpu user nice system idle iowait …, in USER_HZ ticks) and its cpuN lines; undefined
 * where it cannot be read.
 */
function procStat(): { cores: number; idleMs: number; iowaitMs: number } | undefined {
  try {
    const lines = fs.readFileSync('/proc/stat', 'utf8').split('\n');
    const fields = lines[0]!.trim().split(/\s+/);
    const [idle, iowait] = [Number(fields[4]), Number(fields[5])];
    const cores = lines.filter((l) => /^cpu\d+ /.test(l)).length;
    return Number.isFinite(idle) && Number.isFinite(iowait) && cores > 0 ? { cores, idleMs: idle * TICK_MS, iowaitMs: iowait * TICK_MS } : undefined;
  } catch {
    return undefined;
  }
}

/** Time of all the machine's cores so far (ms) that no process used: idle, or waiting on the disk. */
function machineIdleMs(): number {
  const stat = procStat();
  return stat ? stat.idleMs + stat.iowaitMs : 0;
}

/**
 * Waits until the machine is quiet: at most `busy` of its cores' time used over the last
 * `windowMs` at least, sampled every quarter window, or `timeoutMs` passed. Answers how long it
 * waited and whether the machine got quiet (at once, unmeasured, where /proc/stat cannot be read). A
 * bench calls it where the work of its own set-up (thousands of starts, their writes) would
 * otherwise still run while it measures.
 */
export async function untilQuiet(options: { busy?: number; windowMs?: number; timeoutMs?: number } = {}): Promise<{ ms: number; quiet: boolean }> {
  const { busy = 0.15, windowMs = 1000, timeoutMs = 60_000 } = options;
  const started = performance.now();
  // iowait counts as work here: a flush is the set-up's too.
  const first = procStat();
  if (!first) return { ms: 0, quiet: true };
  const samples: { at: number; idleMs: number }[] = [{ at: started, idleMs: first.idleMs }];
  for (;;) {
    await new Promise((r) => setTimeout(r, windowMs / 4));
    const now = { at: performance.now(), idleMs: procStat()?.idleMs ?? 0 };
    // The newest sample at least a window old.
    let from: (typeof samples)[number] | undefined;
    for (const x of samples) if (now.at - x.at >= windowMs) from = x;
    samples.push(now);
    if (from) {
      const used = 1 - (now.idleMs - from.idleMs) / ((now.at - from.at) * first.cores);
      if (used <= busy) return { ms: now.at - started, quiet: true };
    }
    if (now.at - started >= timeoutMs) return { ms: now.at - started, quiet: false };
  }
}

/**
 * The Temporal dev server's request counters so far, by `service:operation` for its frontend and
 * `persistence:operation` for its database, from its Prometheus endpoint.
 */
export async function temporalRequests(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(service_requests|persistence_requests)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (m[1] === 'service_requests' && labels.service_name !== 'frontend') continue;
    const key = `${m[1] === 'service_requests' ? 'frontend' : 'persistence'}:${labels.operation}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[3]));
  }
  return counts;
}

/** What `temporalRequests` counted between `before` and now, per unit of work (`per`), largest first, as lines. */
export async function temporalRequestsSince(metricsUrl: string, before: Map<string, number>, per: number): Promise<string> {
  return countsSince(before, await temporalRequests(metricsUrl), per, { min: 0.05, digits: 2 });
}

/** Counters' growth from `before` to `now` per unit of work (`per`), those of at least `min`, largest first, as lines. */
export function countsSince(before: Map<string, number>, now: Map<string, number>, per: number, show: { min: number; digits: number }): string {
  return [...now]
    .map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / per] as const)
    .filter(([, v]) => v >= show.min)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `    ${k} ${v.toFixed(show.digits)}`)
    .join('\n');
}

/** A /proc/<pid>/stat line: the command name, the fields after it, and the CPU time used (user + system, ms). */
function parseStat(stat: string): { comm: string; fields: string[]; ms: number } {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), fields, ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
}

/** CPU time (ms) one process has used so far (Linux /proc; 0 elsewhere). */
export function cpuOf(pid: number): number {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')).ms;
  } catch {
    return 0;
  }
}

/** Resident set size of a process, in MB (Linux /proc). */
export function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/**
 * Samples a process's RSS every 50 ms: the peak of a window. (The kernel's own high-water mark
 * would include the worker's start.)
 */
export function sampleRss(pid: number): { peak(): number; stop(): void } {
  let peak = rssOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  return { peak: () => Math.max(peak, rssOf(pid)), stop: () => clearInterval(timer) };
}

export interface WorkerProcess {
  pid: number;
  /** Its /metrics (Trellis's and the Temporal SDK's worker metrics), as its readiness line names it. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

/** A Trellis API process: where it listens. */
export interface ApiProcess extends WorkerProcess {
  url: string;
}

/** NODE_OPTIONS of the bench's worker processes: docker-compose.yml's worker setting, unless BENCH_WORKER_NODE_OPTIONS says otherwise. */
export const WORKER_NODE_OPTIONS = process.env.BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=256';

/**
 * Runs `args` under this Node with `env` (and PATH and HOME) until it prints a line matching
 * `ready`: that line, and the process's handle. Stopped by the bench's end or failure (runBench).
 */
async function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ line: string; process: WorkerProcess }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    // Only the start is needed; the rest is drained so the pipe never blocks the process.
    if (out.length < 100_000) out += d.toString();
  });
  // A whole line: the readiness line is JSON for Trellis's processes, parsed by the callers.
  const readyLine = () =>
    out
      .split('\n')
      .slice(0, -1)
      .find((line) => ready.test(line));
  await until(async () => readyLine() !== undefined || child.exitCode !== null, 200);
  if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited: ${out}`);
  const handle: WorkerProcess = {
    pid: child.pid!,
    async stop() {
      workers.delete(handle);
      child.kill('SIGTERM');
      await exited;
    },
  };
  workers.add(handle);
  return { line: readyLine()!, process: handle };
}

/**
 * `npm start`'s command line after `node`: its Node flags and the compiled code (run `npm run build`
 * first; the bench scripts do). The image runs the same (test/unit/start-command.test.ts).
 */
let startArgs: string[] | undefined;
function npmStart(): string[] {
  if (startArgs) return startArgs;
  const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const [node, ...args] = scripts.start!.split(' ');
  if (node !== 'node') throw new Error(`npm start does not run node: ${scripts.start}`);
  if (!fs.existsSync(path.join(ROOT, args.at(-1)!))) throw new Error('dist/ is missing: run `npm run build` first');
  startArgs = args;
  return args;
}

/** `npm start`'s Node flags: what a bench's worker processes, Trellis's or a baseline's, run under. */
export function npmStartFlags(): string[] {
  return npmStart().slice(0, -1);
}

/**
 * What a worker process runs under, Trellis's or a baseline's: the worker's Node flags as
 * docker-compose.yml sets them (a heap limit; BENCH_WORKER_NODE_OPTIONS='' for Node's defaults), its
 * malloc arenas, and glibc's settings (MALLOC_*) from the bench's environment.
 */
function workerRuntimeEnv(): Record<string, string> {
  return {
    ...(WORKER_NODE_OPTIONS ? { NODE_OPTIONS: WORKER_NODE_OPTIONS } : {}),
    MALLOC_ARENA_MAX: '2',
    ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('MALLOC_') && e[1] !== undefined)),
  };
}

/**
 * A Trellis worker (ROLE=worker) in a process of its own, so its memory is its own: `npm start`'s
 * compiled code and prebuilt workflow bundle.
 */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  // 'info': the readiness line waited for is an info line.
  const { line, process: worker } = await startProcess(
    npmStart(),
    {
      ROLE: 'worker',
      LOG_LEVEL: 'info',
      ...workerRuntimeEnv(),
      // The worker's own settings (WORKER_*) from the bench's environment.
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('WORKER_'))),
      ...env,
    },
    /trellis worker ready/,
  );
  return { ...worker, metricsUrl: (JSON.parse(line) as { metricsUrl?: string }).metricsUrl };
}

/**
 * A Trellis API (ROLE=api, with its dispatcher) in a process of its own, as `npm start` runs it,
 * listening on a free port of 127.0.0.1; `env` adds to the bench's (database, Temporal, task queue).
 */
export async function startApiProcess(bench: Bench, env: Record<string, string> = {}): Promise<ApiProcess> {
  const { line, process: api } = await startProcess(
    npmStart(),
    { ...bench.workerEnv, ROLE: 'api', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ADMIN_API_KEY: 'bench', ...env },
    /trellis api ready/,
  );
  return { ...api, url: (JSON.parse(line) as { url: string }).url };
}

/**
 * A baseline's worker: a TypeScript module of bench/ compiled to one file (its packages left to
 * node_modules) and run as Trellis's worker runs (startWorkerProcess): `npm start`'s Node flags,
 * workerRuntimeEnv, and no tsx. Run through tsx, the SDK's workflow thread
 * inherits tsx's loader and Node's source maps, which Trellis's worker runs without. Ready once it
 * prints a line matching `ready`.
 */
export async function startBaselineWorkerProcess(module: string, env: Record<string, string>, ready: RegExp): Promise<WorkerProcess> {
  // Beside the compiled code, so that its packages resolve from the project's node_modules.
  const compiled = path.join(ROOT, 'dist', 'bench', `${path.basename(module, '.ts')}-${process.pid}.js`);
  await build({
    entryPoints: [path.join(__dirname, module)],
    outfile: compiled,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
  });
  const { process: worker } = await startProcess([...npmStartFlags(), compiled], { ...workerRuntimeEnv(), ...env }, ready);
  return {
    ...worker,
    async stop() {
      await worker.stop();
      fs.rmSync(compiled, { force: true });
    },
  };
}

const open = new Set<Bench>();
const workers = new Set<WorkerProcess>();

/** Runs a bench's main; on a failure, stops the servers it started (no orphan dev server) and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main()
    // Exits as app/main.ts does once it has closed everything: the Temporal SDK's native runtime can
    // keep the process alive after its last connection closed.
    .then(() => process.exit(0))
    .catch(async (err) => {
      console.error(err);
      for (const worker of workers) await worker.stop();
      for (const bench of open) await bench.close().catch(() => undefined);
      process.exit(1);
    });
}

export interface Bench {
  temporal: DevServer;
  scratch: ScratchDatabase;
  /** The API (ROLE=api, with its outbox dispatcher) in this process. */
  trellis: Trellis;
  /** The environment a worker process of this bench needs (database, Temporal, task queue). */
  workerEnv: Record<string, string>;
  api(method: string, p: string, key: string, body?: unknown): Promise<any>;
  close(): Promise<void>;
}

/**
 * A fresh Temporal dev server and database, and Trellis's API on them; `env` adds SPEC §2 variables.
 * The server's SQLite is `fast` (its log never flushed) unless `sqlite` says `durable`.
 */
export async function startBench(name: string, env: Record<string, string> = {}, options: { sqlite?: 'fast' | 'durable' } = {}): Promise<Bench> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `trellis-bench-${name}-`));
  const temporal = await startTemporalDevServer({ dbFilename: path.join(dir, 'temporal.db'), sqlite: options.sqlite ?? 'fast' });
  const scratch = await createScratchDatabase(PG_BASE, `trellis_bench_${name}`);
  await runMigrations(scratch.url);
  const workerEnv = { DATABASE_URL: scratch.url, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: `bench-${name}` };
  const trellis = await startTrellis(
    loadConfig({ ...workerEnv, ROLE: 'api', HOST: '127.0.0.1', PORT: '0', ADMIN_API_KEY: 'bench', LOG_LEVEL: 'warn', ...env }),
  );
  const api = apiClient(trellis.url!);
  const bench: Bench = {
    temporal,
    scratch,
    trellis,
    workerEnv,
    api,
    async close() {
      open.delete(bench);
      await trellis.close();
      await temporal.stop();
      await scratch.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  open.add(bench);
  return bench;
}

/** Inserts `n` subscribed contacts of a project in one statement; their ids in order. */
export async function insertAudience(bench: Bench, projectId: string, n: number, tag: string): Promise<string[]> {
  const { rows } = await bench.trellis.database.pool.query<{ id: string }>(
    `insert into contacts (project_id, email) select $1, $2 || '-' || i || '@bench.test' from generate_series(1, $3) i returning id`,
    [projectId, tag, n],
  );
  return rows.map((r) => r.id);
}

/** Counts of a workflow's executions by status. */
export async function statusCounts(bench: Bench, workflowId: string): Promise<Record<string, number>> {
  const { rows } = await bench.trellis.database.pool.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from executions where workflow_id = $1 group by status`,
    [workflowId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
