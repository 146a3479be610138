/** What activities need from the outside world; tests pass real servers, production the configured ones. */
import type { Database } from '../db/client';
import type { HttpClient } from './http';
import type { Mailer } from './mailer';
import type { Renderer } from './renderer';

export interface ActivityDeps {
  database: Database;
  /** Undefined: emails are stored as CAPTURED, not sent. */
  mailer: Mailer | undefined;
  http: HttpClient;
  renderer: Renderer;
  mailFrom: string;
  publicUrl: string;
  /** Called after a commit that queued outbox commands (an event that starts, resumes or ends runs), so the dispatcher carries them out at once. */
  onCommandsQueued: () => void;
  /** Aborted when the worker's shutdown grace period is over: SMTP and HTTP calls still in flight are given up. */
  stopping?: AbortSignal;
  /**
   * Aborted when the worker begins to shut down: a send's or a webhook's local first attempt then
   * makes no call and hands it to an activity task, which a worker still running takes (the workflow task that
   * asked for it would otherwise run on, step after step, on a worker that is going away).
   */
  shuttingDown?: AbortSignal;
  /** Contacts per audience-enrolment batch (default ENROLMENT_BATCH_SIZE; tests cross batches with small audiences). */
  enrolmentBatchSize?: number;
}
