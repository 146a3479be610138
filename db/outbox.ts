/** Queuing Temporal commands in the same transaction as the change that causes them (an execution's, or a segment computation's start). */
import { sql } from 'drizzle-orm';
import type { TrackedEventSignal } from '../core/execution';
import type { Db, Tx } from './client';
import { outbox } from './schema';

export type OutboxCommand =
  | { kind: 'start'; executionId: string }
  | { kind: 'signal'; executionId: string; event: TrackedEventSignal }
  | { kind: 'cancel'; executionId: string }
  | { kind: 'compute-segment'; segmentId: string; projectId: string; generation: number }
  /** Starts an audience enrolment's workflow; the row's `execution_id` holds the enrolment's id. */
  | { kind: 'enrolment'; enrolmentId: string };

/** Queues commands; the dispatcher carries them out once the transaction commits. */
export async function queueCommands(tx: Tx, commands: OutboxCommand[]): Promise<void> {
  if (commands.length === 0) return;
  await tx.insert(outbox).values(
    commands.map((c) =>
      c.kind === 'compute-segment'
        ? // The column keys a queue whose commands run in order: here the segment's.
          { kind: c.kind, executionId: c.segmentId, payload: { projectId: c.projectId, generation: c.generation } }
        : { kind: c.kind, executionId: c.kind === 'enrolment' ? c.enrolmentId : c.executionId, payload: c.kind === 'signal' ? { event: c.event } : {} },
    ),
  );
}

/** Counted exactly up to this many rows; beyond it the planner's estimate stands in (a scrape stays cheap). */
const EXACT_DEPTH_LIMIT = 100_000;

/** The outbox's depth and the age of its oldest command (by id: the primary key orders insertion). */
export async function outboxBacklog(db: Db): Promise<{ depth: number; oldestSeconds: number }> {
  const result = await db.execute(sql`
    select
      (select count(*) from (select 1 from ${outbox} limit ${EXACT_DEPTH_LIMIT + 1}) capped)::int as exact,
      (select reltuples from pg_class where oid = 'outbox'::regclass)::float8 as estimate,
      coalesce(extract(epoch from now() - (select ${outbox.createdAt} from ${outbox} order by ${outbox.id} limit 1)), 0)::float8 as oldest`);
  const row = result.rows[0] as { exact: number; estimate: number; oldest: number };
  const depth = row.exact > EXACT_DEPTH_LIMIT ? Math.max(row.exact, Math.round(row.estimate)) : row.exact;
  return { depth, oldestSeconds: Math.max(0, row.oldest) };
}
