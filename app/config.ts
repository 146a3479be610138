/** Configuration (SPEC §2): parsed once at boot; a bad value stops the process naming the variable. */
import { z } from 'zod';

/** A yes-or-no setting, as every one of them is written. */
export const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const count = (min: number) => z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(min, `expected at least ${min}`);

/**
 * The worker's defaults, sized so that one worker process stays under 400 MB of RSS with 10,000
 * runs waiting in a DELAY (bench/p3.ts; with docker-compose.yml's heap limit and malloc arenas): a
 * cached run costs about half a megabyte, and runs beyond the cache wait in Temporal at no cost to
 * the worker and are replayed from their history when they wake.
 */
export const WORKER_DEFAULTS = { maxCachedWorkflows: 100, stickyTimeoutMs: 1000 } as const;
const DEFAULT_POOL_SIZE = 20;

const schema = z.object({
  DATABASE_URL: z.string().min(1),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('trellis'),
  TEMPORAL_DEPLOYMENT_NAME: z.string().min(1).optional(),
  TEMPORAL_BUILD_ID: z.string().min(1).optional(),
  TEMPORAL_VERSIONING_BEHAVIOR: z.enum(['AUTO_UPGRADE', 'PINNED']).default('AUTO_UPGRADE'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.url().optional(),
  SMTP_URL: z.url().optional(),
  MAIL_FROM: z.string().min(1).default('Trellis <no-reply@localhost>'),
  ADMIN_API_KEY: z.string().min(1).optional(),
  RATE_LIMIT_TRACK_PER_SECOND: z.coerce.number().int().positive().default(1000),
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  INBOUND_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  INBOUND_DOMAIN: z.string().min(1).default('localhost'),
  ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // Below SEND_EMAIL's 30 s start-to-close timeout, with room for rendering and recording.
  SMTP_SEND_TIMEOUT_MS: z.coerce.number().int().min(1000).max(25_000).default(20_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(25_000),
  DATABASE_POOL_SIZE: count(2).default(DEFAULT_POOL_SIZE),
  WORKER_MAX_CACHED_WORKFLOWS: count(0)
    .refine((n) => n !== 1, 'expected 0 (no cache: every workflow task replays its history) or at least 2')
    .default(WORKER_DEFAULTS.maxCachedWorkflows),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: count(2).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: count(1).optional(),
  WORKER_STICKY_TIMEOUT_MS: count(100).max(600_000, 'expected at most 600000').default(WORKER_DEFAULTS.stickyTimeoutMs),
  RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
});

/** Rules between variables, each reported on the variable a user would change. */
const checked = schema.superRefine((c, ctx) => {
  // Worker Versioning needs both halves of a version; one alone is a mistake, not "off".
  if ((c.TEMPORAL_DEPLOYMENT_NAME === undefined) !== (c.TEMPORAL_BUILD_ID === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['TEMPORAL_BUILD_ID'],
      message: 'set both TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_BUILD_ID (Worker Versioning), or neither',
    });
  }
  const tasks = c.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS;
  if (tasks !== undefined && c.WORKER_MAX_CACHED_WORKFLOWS >= 2 && tasks > c.WORKER_MAX_CACHED_WORKFLOWS) {
    ctx.addIssue({
      code: 'custom',
      path: ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS'],
      message: `must not exceed WORKER_MAX_CACHED_WORKFLOWS (${c.WORKER_MAX_CACHED_WORKFLOWS}): a task runs on a cached workflow`,
    });
  }
  if (c.WORKER_MAX_CONCURRENT_ACTIVITIES !== undefined && c.WORKER_MAX_CONCURRENT_ACTIVITIES > c.DATABASE_POOL_SIZE) {
    ctx.addIssue({
      code: 'custom',
      path: ['WORKER_MAX_CONCURRENT_ACTIVITIES'],
      message: `must not exceed DATABASE_POOL_SIZE (${c.DATABASE_POOL_SIZE}): every activity holds a database connection`,
    });
  }
});

export interface Config {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /**
   * Temporal Worker Versioning (off when undefined): the worker polls as this Worker Deployment
   * Version, and runs take `defaultBehavior` unless the workflow says otherwise.
   */
  workerVersioning: { deploymentName: string; buildId: string; defaultBehavior: 'AUTO_UPGRADE' | 'PINNED' } | undefined;
  host: string;
  port: number;
  publicUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  adminApiKey: string | undefined;
  trackRatePerSecond: number;
  webhookAllowPrivate: boolean;
  inboundSmtpPort: number | undefined;
  inboundDomain: string;
  role: 'api' | 'worker' | 'all';
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** A second listener serving only /metrics, /healthz and /readyz (how a ROLE=worker process is scraped). */
  metricsPort: number | undefined;
  /** The total deadline of one SMTP attempt, from connecting to the server's answer. */
  smtpSendTimeoutMs: number;
  /** On SIGTERM: how long in-flight requests, activities and the dispatcher's pass may take to finish. */
  shutdownGraceMs: number;
  /** Postgres connections this process keeps at most. */
  databasePoolSize: number;
  worker: WorkerTuning;
  /** Finished executions (with their steps and emails), events and emails older than this many days are purged hourly; off when undefined. */
  retentionDays: number | undefined;
}

/** How much one worker process takes on at once (SPEC §2; bench/p3.ts measures the defaults). */
export interface WorkerTuning {
  /** Workflows kept in memory between their tasks (0: none; every task replays the history). */
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTasks: number;
  maxConcurrentActivities: number;
  /**
   * How long a run's next workflow task waits for this worker (which holds the run in its cache)
   * before Temporal gives it to any worker, with the whole history to replay.
   */
  stickyTimeoutMs: number;
}

/**
 * Workflow tasks one worker runs at once by default: twice its activity slots and ten more, at most
 * the cache (the SDK's bound). A task keeps its slot while its local activities run (Postgres steps,
 * a send's or a webhook's first attempt) and while they wait for an activity slot, so the tasks holding one must
 * leave room for the tasks that start new runs and wake waiting ones. (Bench P1, 15 activity slots:
 * with 25 task slots the first tasks of new runs waited seconds in Temporal's queue while the machine
 * stood idle; with 40 they did not.)
 */
function defaultWorkflowTaskSlots(cached: number, activities: number): number {
  const slots = 2 * activities + 10;
  return cached === 0 ? slots : Math.min(slots, cached);
}

function workerTuning(c: z.output<typeof schema>): WorkerTuning {
  const activities = c.WORKER_MAX_CONCURRENT_ACTIVITIES ?? defaultActivitySlots(c.DATABASE_POOL_SIZE);
  return {
    maxCachedWorkflows: c.WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTasks: c.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS ?? defaultWorkflowTaskSlots(c.WORKER_MAX_CACHED_WORKFLOWS, activities),
    maxConcurrentActivities: activities,
    stickyTimeoutMs: c.WORKER_STICKY_TIMEOUT_MS,
  };
}

/**
 * Activities of each kind (local Postgres steps, activity tasks) one worker runs at once by default:
 * three quarters of the pool. The Postgres steps hold a connection through their transaction; the
 * activity tasks are mostly outside calls, which hold one only around the call. Both kinds at full
 * concurrency can ask for more connections than the pool has: they then wait for one, and so may
 * the outbox dispatcher, the reconciler and (ROLE=all) the API. No transaction asks for a second
 * connection while it holds one, so the waits end.
 */
export function defaultActivitySlots(poolSize: number): number {
  return Math.max(1, Math.floor((poolSize * 3) / 4));
}

export class ConfigError extends Error {}

/** Parses `env` (empty strings count as unset); throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = checked.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  return {
    databaseUrl: c.DATABASE_URL,
    temporalAddress: c.TEMPORAL_ADDRESS,
    temporalNamespace: c.TEMPORAL_NAMESPACE,
    taskQueue: c.TEMPORAL_TASK_QUEUE,
    workerVersioning:
      c.TEMPORAL_DEPLOYMENT_NAME !== undefined && c.TEMPORAL_BUILD_ID !== undefined
        ? { deploymentName: c.TEMPORAL_DEPLOYMENT_NAME, buildId: c.TEMPORAL_BUILD_ID, defaultBehavior: c.TEMPORAL_VERSIONING_BEHAVIOR }
        : undefined,
    host: c.HOST,
    port: c.PORT,
    publicUrl: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    adminApiKey: c.ADMIN_API_KEY,
    trackRatePerSecond: c.RATE_LIMIT_TRACK_PER_SECOND,
    webhookAllowPrivate: c.WEBHOOK_ALLOW_PRIVATE,
    inboundSmtpPort: c.INBOUND_SMTP_PORT,
    inboundDomain: c.INBOUND_DOMAIN,
    role: c.ROLE,
    logLevel: c.LOG_LEVEL,
    metricsPort: c.METRICS_PORT,
    databasePoolSize: c.DATABASE_POOL_SIZE,
    worker: workerTuning(c),
    smtpSendTimeoutMs: c.SMTP_SEND_TIMEOUT_MS,
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    retentionDays: c.RETENTION_DAYS,
  };
}
