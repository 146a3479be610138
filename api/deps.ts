/** What the HTTP layer is given: the database, Temporal (for cancels) and the outbox dispatcher. */
import type { Client } from '@temporalio/client';
import type { Renderer } from '../activities/renderer';
import type { Config } from '../app/config';
import type { Database } from '../db/client';
import type { Logger } from '../telemetry/logger';
import type { Dispatcher } from '../temporal/dispatcher';
import type { Schedules } from '../temporal/schedules';

export interface ApiDeps {
  config: Pick<Config, 'adminApiKey' | 'inboundDomain' | 'trackRatePerSecond' | 'publicUrl'>;
  database: Database;
  temporal: Client;
  dispatcher: Dispatcher;
  renderer: Renderer;
  /** The process's logger; each request logs through a child carrying its request id. */
  logger: Logger;
  /** Syncs a workflow's Temporal Schedule after a change commits. */
  schedules: Pick<Schedules, 'sync'>;
  /** Readiness beyond Postgres and Temporal (e.g. the worker is polling). */
  isReady: () => boolean;
  /** The moment of a request for the `/v1/track` limit (tests hold it still); default: the database's clock. */
  clock?: () => Date;
}
