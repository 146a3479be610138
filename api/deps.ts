/** What the HTTP layer is given: the database, Temporal (for cancels) and the outbox dispatcher. */
import type { Client } from '@temporalio/client';
import type { Config } from '../app/config';
import type { Database } from '../db/client';
import type { Dispatcher } from '../temporal/dispatcher';
import type { Schedules } from '../temporal/schedules';

export interface ApiDeps {
  config: Pick<Config, 'adminApiKey' | 'inboundDomain' | 'trackRatePerSecond' | 'publicUrl'>;
  database: Database;
  temporal: Client;
  dispatcher: Dispatcher;
  /** Syncs a workflow's Temporal Schedule after a change commits. */
  schedules: Pick<Schedules, 'sync'>;
  /** Readiness beyond Postgres and Temporal (e.g. the worker is polling). */
  isReady: () => boolean;
}
