/** Queuing Temporal commands in the same transaction as the change that causes them. */
import type { TrackedEventSignal } from '../core/execution';
import type { Tx } from './client';
import { outbox } from './schema';

export type OutboxCommand =
  | { kind: 'start'; executionId: string }
  | { kind: 'signal'; executionId: string; event: TrackedEventSignal }
  | { kind: 'cancel'; executionId: string }
  /** Starts an audience enrolment's workflow; the row's `execution_id` holds the enrolment's id. */
  | { kind: 'enrolment'; enrolmentId: string };

/** Queues commands; the dispatcher carries them out once the transaction commits. */
export async function queueCommands(tx: Tx, commands: OutboxCommand[]): Promise<void> {
  if (commands.length === 0) return;
  await tx.insert(outbox).values(
    commands.map((c) => ({
      kind: c.kind,
      executionId: c.kind === 'enrolment' ? c.enrolmentId : c.executionId,
      payload: c.kind === 'signal' ? { event: c.event } : {},
    })),
  );
}
