/**
 * Starts Trellis in this process for a role: `api` (HTTP), `worker` (Temporal worker) or `all`.
 * Every role runs an outbox dispatcher, so queued Temporal commands are carried out wherever a
 * process is up.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { createApp } from '../api/app';
import type { DNSResolver } from '../api/inbound-auth';
import { startInboundSmtp, type InboundSmtp } from '../api/inbound-smtp';
import { createHttpClient, type HttpClient } from '../activities/http';
import { createMailer, type Mailer } from '../activities/mailer';
import { openDatabase, type Database } from '../db/client';
import { runMigrations } from '../db/migrate';
import { startDispatcher, type Dispatcher } from '../temporal/dispatcher';
import { ensureSearchAttributes } from '../temporal/search-attributes-setup';
import { startReconciler, type Reconciler } from '../temporal/reconciler';
import { startSchedules, type Schedules } from '../temporal/schedules';
import { startWorker, type WorkerHandle } from '../temporal/worker';
import type { Config } from './config';

export interface Trellis {
  config: Config;
  database: Database;
  client: Client;
  dispatcher: Dispatcher;
  /** Keeps the Temporal Schedules of SCHEDULE workflows in step with Postgres. */
  schedules: Schedules;
  worker?: WorkerHandle;
  reconciler?: Reconciler;
  server?: Server;
  /** The API's base URL (when the role serves HTTP). */
  url?: string;
  /** The inbound SMTP listener (with INBOUND_SMTP_PORT, in the `api` and `all` roles). */
  inbound?: { port: number };
  close(): Promise<void>;
}

export interface StartOptions {
  /** A prebuilt workflow bundle (tests bundle once for the whole run). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Overrides of the clients activities use (tests inject a resolver, for instance). */
  mailer?: Mailer;
  http?: HttpClient;
  /**
   * Connections to use instead of TEMPORAL_ADDRESS (the time-skipping test server's); `visibility:
   * false` for a server without custom search attributes and list queries.
   */
  temporal?: { client: Client; nativeConnection: NativeConnection; visibility?: boolean };
  /** How often the reconcilers look for terminated and timed-out runs and stray schedules (default 20 s). */
  reconcileEveryMs?: number;
  /** Contacts per audience-enrolment batch (default 500). */
  enrolmentBatchSize?: number;
  /** DNS lookups of the inbound listener's SPF/DKIM/DMARC checks (tests serve their own records). */
  inboundResolver?: DNSResolver;
}

let runtimeInstalled = false;

/** Installs the Temporal runtime once per process, logging at LOG_LEVEL (the SDK is chatty at INFO). */
function installRuntime(level: Config['logLevel']): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdkLevel = ({ debug: 'DEBUG', info: 'WARN', warn: 'WARN', error: 'ERROR' } as const)[level];
  try {
    Runtime.install({ logger: new DefaultLogger(sdkLevel) });
  } catch {
    // Already installed by the embedding process (a test environment): keep its runtime.
  }
}

/** Retries `fn` until it succeeds, logging the first failure (for Temporal not being up yet). */
async function untilUp<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt === 0) console.warn(`${what}: ${(err as Error).message}; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
}

/** Boots the configured role; resolves once it serves (API) and polls (worker). */
export async function startTrellis(config: Config, options: StartOptions = {}): Promise<Trellis> {
  installRuntime(config.logLevel);
  await runMigrations(config.databaseUrl);
  const database = openDatabase(config.databaseUrl);
  // Lazy: the API keeps accepting events (queued in Postgres) while Temporal is unreachable.
  const connection = options.temporal ? undefined : Connection.lazy({ address: config.temporalAddress });
  const client = options.temporal?.client ?? new Client({ connection, namespace: config.temporalNamespace });
  const dispatcher = startDispatcher({
    database,
    client,
    taskQueue: config.taskQueue,
    searchAttributes: options.temporal?.visibility,
  });
  // The time-skipping test server has no schedules (nor visibility): SCHEDULE triggers do nothing there.
  const schedules = startSchedules({
    database,
    client,
    taskQueue: config.taskQueue,
    enabled: options.temporal?.visibility !== false,
    intervalMs: options.reconcileEveryMs,
  });

  let worker: WorkerHandle | undefined;
  let reconciler: Reconciler | undefined;
  let nativeConnection: NativeConnection | undefined;
  if (config.role !== 'api') {
    if (connection) {
      await untilUp('temporal', () => ensureSearchAttributes(connection, config.temporalNamespace));
      nativeConnection = await untilUp('temporal worker connection', () => NativeConnection.connect({ address: config.temporalAddress }));
    }
    worker = await startWorker({
      connection: options.temporal?.nativeConnection ?? nativeConnection!,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      bundle: options.workflowBundle,
      deps: {
        database,
        mailer: options.mailer ?? createMailer(config.smtpUrl),
        http: options.http ?? createHttpClient({ allowPrivate: config.webhookAllowPrivate }),
        mailFrom: config.mailFrom,
        publicUrl: config.publicUrl,
        onCommandsQueued: () => dispatcher.kick(),
        enrolmentBatchSize: options.enrolmentBatchSize,
      },
    });
    worker.done.catch((err) => console.error('worker stopped:', err));
    if (options.temporal?.visibility !== false) {
      reconciler = startReconciler({ database, client, intervalMs: options.reconcileEveryMs });
    }
  } else if (connection) {
    void ensureSearchAttributes(connection, config.temporalNamespace).catch(() => undefined);
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (config.role !== 'worker') {
    const app = createApp({
      config,
      database,
      temporal: client,
      dispatcher,
      schedules,
      isReady: () => (worker ? worker.worker.getState() === 'RUNNING' : true),
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    const address = server.address() as AddressInfo;
    url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${address.port}`;
  }

  let inbound: InboundSmtp | undefined;
  if (config.role !== 'worker' && config.inboundSmtpPort !== undefined) {
    inbound = await startInboundSmtp({
      host: config.host,
      port: config.inboundSmtpPort,
      inboundDomain: config.inboundDomain,
      database,
      dispatcher,
      resolver: options.inboundResolver,
    });
  }

  dispatcher.kick();
  // At start: a schedule lost or left behind while no process was up is put right.
  schedules.reconcile().catch((err) => console.warn(`schedule reconcile: ${(err as Error).message}`));
  return {
    config,
    database,
    client,
    dispatcher,
    schedules,
    worker,
    reconciler,
    server,
    url,
    inbound: inbound ? { port: inbound.port } : undefined,
    async close() {
      if (server) await new Promise<void>((r) => server!.close(() => r()));
      await inbound?.close();
      reconciler?.stop();
      await schedules.stop();
      await dispatcher.stop();
      if (worker) await worker.shutdown();
      await nativeConnection?.close();
      await connection?.close();
      await database.close();
    },
  };
}
