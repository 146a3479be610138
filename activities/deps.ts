/** What activities need from the outside world; tests pass real servers, production the configured ones. */
import type { Database } from '../db/client';
import type { HttpClient } from './http';
import type { Mailer } from './mailer';

export interface ActivityDeps {
  database: Database;
  /** Undefined: emails are stored as CAPTURED, not sent. */
  mailer: Mailer | undefined;
  http: HttpClient;
  mailFrom: string;
  publicUrl: string;
  /** Called after a commit that queued Temporal commands (an UPDATE_CONTACT that recorded an event). */
  onCommandsQueued: () => void;
}
