/** Queuing Temporal commands in the same transaction as the change that causes them (an execution's, or a segment computation's start). */
import type { TrackedEventSignal } from '../core/execution';
import type { Tx } from './client';
import { outbox } from './schema';

export type OutboxCommand =
  | { kind: 'start'; executionId: string }
  | { kind: 'signal'; executionId: string; event: TrackedEventSignal }
  | { kind: 'cancel'; executionId: string }
  | { kind: 'compute-segment'; segmentId: string; projectId: string; generation: number };

/** Queues commands; the dispatcher carries them out once the transaction commits. */
export async function queueCommands(tx: Tx, commands: OutboxCommand[]): Promise<void> {
  if (commands.length === 0) return;
  await tx.insert(outbox).values(
    commands.map((c) =>
      c.kind === 'compute-segment'
        ? // The column keys a queue whose commands run in order: here the segment's.
          { kind: c.kind, executionId: c.segmentId, payload: { projectId: c.projectId, generation: c.generation } }
        : { kind: c.kind, executionId: c.executionId, payload: c.kind === 'signal' ? { event: c.event } : {} },
    ),
  );
}
