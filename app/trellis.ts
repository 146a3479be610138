/**
 * Starts Trellis in this process for a role: `api` (HTTP), `worker` (Temporal worker) or `all`.
 * Every role runs an outbox dispatcher, so queued Temporal commands are carried out wherever a
 * process is up.
 */
import type { LiveReload } from '../api/live-reload';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import type { DestinationStream } from 'pino';
import type { DNSResolver } from '../inbound/auth';
import type { InboundSmtp } from '../inbound/smtp';
import type { HttpClient } from '../activities/http';
import type { Mailer } from '../activities/mailer';
import { createRenderer } from '../activities/renderer';
import { openDatabase, type Database } from '../db/client';
import { outboxBacklog } from '../db/outbox';
import { createLogger, type Logger } from '../telemetry/logger';
import { setOutboxSampler } from '../telemetry/metrics';
import { runMigrations } from '../db/migrate';
import { startDispatcher, type Dispatcher } from '../temporal/dispatcher';
import { ensureSearchAttributes } from '../temporal/search-attributes-setup';
import type { Reconciler } from '../temporal/reconciler';
import { startSchedules, type Schedules } from '../temporal/schedules';
import type { WorkerHandle } from '../temporal/worker';
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
  logger: Logger;
  /** The METRICS_PORT listener's base URL (when METRICS_PORT is set). */
  metricsUrl?: string;
  /** The API's base URL (when the role serves HTTP). */
  url?: string;
  /** The inbound SMTP listener (with INBOUND_SMTP_PORT, in the `api` and `all` roles). */
  inbound?: { port: number };
  /** With `checkResponses`: answers that broke their route's declaration. */
  responseViolations: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  /** `npm run dev`: open pages of the web app reload after each rebuild. */
  liveReload?: LiveReload;
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
  /**
   * False: the reconciler does not audit active executions against Temporal. For tests only, whose
   * one database serves apps on two Temporal servers (the dev server and the time-skipping one).
   */
  auditRuns?: boolean;
  /** Contacts per audience-enrolment batch (default 500). */
  enrolmentBatchSize?: number;
  /** DNS lookups of the inbound listener's SPF/DKIM/DMARC checks (tests serve their own records). */
  inboundResolver?: DNSResolver;
  /**
   * Hold every API answer against its route's declaration (tests and the API fuzzer): a body that
   * breaks its schema answers 500, and every violation is listed in `responseViolations`.
   */
  checkResponses?: boolean;
  /** Where the JSON log lines go (default stdout); tests capture them. */
  logDestination?: DestinationStream;
  /** The clock of the `/v1/track` rate limit (tests hold it still); default: Postgres's. */
  clock?: () => Date;
}

/** Retries `fn` until it succeeds, logging the first failure (for Temporal not being up yet). */
async function untilUp<T>(logger: Logger, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt === 0) logger.warn({ err }, `${what} unreachable; retrying`);
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
}

/** Boots the configured role; resolves once it serves (API) and polls (worker). */
export async function startTrellis(config: Config, options: StartOptions = {}): Promise<Trellis> {
  const logger = createLogger(config.logLevel, options.logDestination);
  await runMigrations(config.databaseUrl);
  const database = openDatabase(config.databaseUrl, {
    max: config.databasePoolSize,
    onError: (message, err) => logger.error({ reason: err.message }, message),
  });
  const removeSampler = setOutboxSampler(() => outboxBacklog(database.db));
  // Lazy: the API keeps accepting events (queued in Postgres) while Temporal is unreachable.
  const connection = options.temporal ? undefined : Connection.lazy({ address: config.temporalAddress });
  const client = options.temporal?.client ?? new Client({ connection, namespace: config.temporalNamespace });
  const renderer = createRenderer();
  const dispatcher = startDispatcher({
    database,
    client,
    taskQueue: config.taskQueue,
    searchAttributes: options.temporal?.visibility,
    logger,
  });
  // The time-skipping test server has no schedules (nor visibility): SCHEDULE triggers do nothing there.
  const schedules = startSchedules({
    database,
    client,
    taskQueue: config.taskQueue,
    enabled: options.temporal?.visibility !== false,
    intervalMs: options.reconcileEveryMs,
    logger,
  });

  let worker: WorkerHandle | undefined;
  let reconciler: Reconciler | undefined;
  let nativeConnection: NativeConnection | undefined;
  if (config.role !== 'api') {
    // Each role loads only its own modules: a worker's heap holds neither the API nor inbound mail,
    // and an API's not the activities (less for every major collection to mark), nor the SDK's
    // native runtime (its worker core, log forwarding and metrics exporter): an API talks to
    // Temporal through the client alone.
    const [
      { installRuntime },
      { NativeConnection },
      { startWorker },
      { createMailer },
      { createHttpClient },
      { startReconciler },
      { syncRetentionSchedule },
      { ensureSegmentRefreshSchedule },
    ] = await Promise.all([
      import('../temporal/runtime.js'),
      import('@temporalio/worker'),
      import('../temporal/worker.js'),
      import('../activities/mailer.js'),
      import('../activities/http.js'),
      import('../temporal/reconciler.js'),
      import('../temporal/purge-client.js'),
      import('../temporal/segment-client.js'),
    ]);
    await installRuntime(logger);
    if (connection) {
      await untilUp(logger, 'temporal', () => ensureSearchAttributes(connection, config.temporalNamespace));
      nativeConnection = await untilUp(logger, 'temporal worker connection', () => NativeConnection.connect({ address: config.temporalAddress }));
    }
    worker = await startWorker({
      connection: options.temporal?.nativeConnection ?? nativeConnection!,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      tuning: config.worker,
      bundle: options.workflowBundle,
      versioning: config.workerVersioning,
      shutdownGraceMs: config.shutdownGraceMs,
      deps: {
        database,
        mailer: options.mailer ?? createMailer(config.smtpUrl, { sendTimeoutMs: config.smtpSendTimeoutMs }),
        http: options.http ?? createHttpClient({ allowPrivate: config.webhookAllowPrivate }),
        renderer,
        mailFrom: config.mailFrom,
        publicUrl: config.publicUrl,
        onCommandsQueued: () => dispatcher.kick(),
        enrolmentBatchSize: options.enrolmentBatchSize,
      },
    });
    worker.done.catch((err) => logger.error({ err }, 'worker stopped'));
    if (options.temporal?.visibility !== false) {
      reconciler = startReconciler({
        database,
        client,
        logger,
        intervalMs: options.reconcileEveryMs,
        audit: options.auditRuns,
        onCommandsQueued: () => dispatcher.kick(),
      });
      // The time-skipping test server has no schedules.
      await untilUp(logger, 'segment refresh schedule', () => ensureSegmentRefreshSchedule(client, config.taskQueue));
      await untilUp(logger, 'retention schedule', () => syncRetentionSchedule(client, config.taskQueue, config.retentionDays));
    }
  } else if (connection) {
    void ensureSearchAttributes(connection, config.temporalNamespace).catch(() => undefined);
  }

  const apiDeps = {
    config,
    database,
    temporal: client,
    dispatcher,
    renderer,
    logger,
    schedules,
    isReady: () => (worker ? worker.worker.getState() === 'RUNNING' : true),
    clock: options.clock,
  };
  let server: Server | undefined;
  let url: string | undefined;
  const responseCheck = { violations: [] as string[] };
  if (config.role !== 'worker') {
    const { createApp } = await import('../api/app.js');
    server = await listen(
      createApp(apiDeps, { responseCheck: options.checkResponses ? responseCheck : undefined, liveReload: options.liveReload }),
      config.host,
      config.port,
    );
    url = baseUrl(config.host, server);
  }
  let metricsServer: Server | undefined;
  if (config.metricsPort !== undefined) {
    const { createOperatorApp } = await import('../api/operator-app.js');
    metricsServer = await listen(createOperatorApp(apiDeps), config.host, config.metricsPort);
  }

  let inbound: InboundSmtp | undefined;
  if (config.role !== 'worker' && config.inboundSmtpPort !== undefined) {
    const { startInboundSmtp } = await import('../inbound/smtp.js');
    inbound = await startInboundSmtp({
      host: config.host,
      port: config.inboundSmtpPort,
      inboundDomain: config.inboundDomain,
      database,
      dispatcher,
      resolver: options.inboundResolver,
      logger,
    });
  }

  dispatcher.kick();
  // At start: a schedule lost or left behind while no process was up is put right.
  schedules.reconcile().catch((err) => logger.warn({ err }, 'schedule reconcile failed'));
  return {
    config,
    database,
    client,
    dispatcher,
    schedules,
    worker,
    reconciler,
    server,
    logger,
    metricsUrl: metricsServer ? baseUrl(config.host, metricsServer) : undefined,
    url,
    inbound: inbound ? { port: inbound.port } : undefined,
    responseViolations: responseCheck.violations,
    async close() {
      // Stop taking work — HTTP requests, inbound mail, Temporal tasks, outbox passes — and let what
      // is in flight finish within the grace period: requests and the dispatcher's current pass end
      // on their own, activities still running when it is over are cancelled (and retried elsewhere).
      const graceMs = config.shutdownGraceMs;
      reconciler?.stop();
      options.liveReload?.close();
      await Promise.all([
        ...[server, metricsServer].map((s) => s && closeServer(s, graceMs)),
        inbound?.close(),
        schedules.stop(),
        dispatcher.stop(),
        worker?.shutdown(),
      ]);
      // A request that finished meanwhile may have set its event's deliveries going (dispatcher.send):
      // they end before the connections close.
      await dispatcher.stop();
      await nativeConnection?.close();
      await connection?.close();
      removeSampler();
      await database.close();
      await renderer.close();
    },
  };
}

/** Stops accepting connections, lets requests in flight finish, and drops the connections left after `graceMs`. */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    // A keep-alive connection becomes idle when its request is answered; close it then rather than
    // after its keep-alive timeout (Node closes only the connections idle at the time of close()).
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const grace = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(grace);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Serves `app` on host:port; resolves once it listens. */
function listen(app: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    // Idle keep-alive connections stay open longer than a client or load balancer keeps them (60 s is
    // the common idle timeout), so the server never closes one just as a request is sent on it.
    const s = createServer({ keepAliveTimeout: 65_000 }, app).listen(port, host, () => resolve(s));
    s.once('error', reject);
  });
}

/** The URL a client on this machine reaches a server at. */
function baseUrl(host: string, server: Server): string {
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${(server.address() as AddressInfo).port}`;
}
