/** Segment rows: writes that queue their background computation, reads with their member count. */
import { and, asc, count, desc, eq, sql } from 'drizzle-orm';
import type { Filter } from '../core/filter';
import { isTimeRelative } from '../core/segment';
import type { Db, Tx } from './client';
import { queueCommands } from './outbox';
import { contacts, segmentMembers, segments, workflows } from './schema';
import type { SegmentRow } from './segment-membership';

export type { SegmentRow } from './segment-membership';
export type SegmentWithCount = SegmentRow & { memberCount: number };

const memberCount = sql<number>`(select count(*)::int from ${segmentMembers} where ${segmentMembers.segmentId} = ${segments.id})`;

/** Queues the computation of the segment's current generation, to start once the transaction commits. */
async function queueComputation(tx: Tx, segment: SegmentRow): Promise<void> {
  await queueCommands(tx, [{ kind: 'compute-segment', segmentId: segment.id, projectId: segment.projectId, generation: segment.generation }]);
}

/** Creates a segment (undefined when its slug is taken in the project) and queues its first computation. */
export async function createSegment(
  tx: Tx,
  input: { projectId: string; name: string; slug: string; filter: Filter; trackMembership: boolean },
): Promise<SegmentWithCount | undefined> {
  const [row] = await tx
    .insert(segments)
    .values({ ...input, filter: input.filter as never, timeRelative: isTimeRelative(input.filter), computing: true, initializing: true })
    .onConflictDoNothing()
    .returning();
  if (!row) return undefined;
  await queueComputation(tx, row);
  return { ...row, memberCount: 0 };
}

/** A segment of a project with its member count. */
export async function getSegment(db: Tx, projectId: string, id: string): Promise<SegmentWithCount | undefined> {
  const [row] = await db
    .select({ segment: segments, memberCount })
    .from(segments)
    .where(and(eq(segments.id, id), eq(segments.projectId, projectId)));
  return row ? { ...row.segment, memberCount: row.memberCount } : undefined;
}

/** One page of a project's segments, newest first, with the exact total. */
export async function listSegments(db: Db, projectId: string, q: { page: number; pageSize: number }) {
  const where = eq(segments.projectId, projectId);
  const [[total], rows] = await Promise.all([
    db.select({ n: count() }).from(segments).where(where),
    db
      .select({ segment: segments, memberCount })
      .from(segments)
      .where(where)
      .orderBy(desc(segments.createdAt), desc(segments.id))
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize),
  ]);
  return { total: total!.n, rows: rows.map((r): SegmentWithCount => ({ ...r.segment, memberCount: r.memberCount })) };
}

/**
 * Changes a locked segment. A new filter bumps the generation, marks it computing and queues the
 * computation of the new generation (an older one still running stops at its next page).
 */
export async function updateSegment(
  tx: Tx,
  current: SegmentRow,
  change: { name?: string; slug?: string; filter?: Filter; trackMembership?: boolean },
): Promise<SegmentRow> {
  const { filter, ...rest } = change;
  const [row] = await tx
    .update(segments)
    .set({
      ...rest,
      ...(filter !== undefined ? { filter: filter as never, timeRelative: isTimeRelative(filter), generation: current.generation + 1, computing: true } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(segments.id, current.id))
    .returning();
  if (filter !== undefined) await queueComputation(tx, row!);
  return row!;
}

/** Reads a segment of a project and locks its row for the rest of the transaction. */
export async function lockSegment(tx: Tx, projectId: string, id: string): Promise<SegmentRow | undefined> {
  const [row] = await tx
    .select()
    .from(segments)
    .where(and(eq(segments.id, id), eq(segments.projectId, projectId)))
    .for('update');
  return row;
}

/** The names of the workflows whose SCHEDULE trigger enrols the segment's members. */
export async function workflowsScheduledOn(tx: Tx, projectId: string, segmentId: string): Promise<string[]> {
  const rows = await tx
    .select({ name: workflows.name })
    .from(workflows)
    .where(and(eq(workflows.projectId, projectId), eq(workflows.triggerType, 'SCHEDULE'), sql`${workflows.triggerConfig}->>'segmentId' = ${segmentId}`))
    .orderBy(asc(workflows.name));
  return rows.map((r) => r.name);
}

/** One page of a segment's member contacts in id order, with the exact total. */
export async function memberPage(db: Db, segmentId: string, q: { page: number; pageSize: number }) {
  const where = eq(segmentMembers.segmentId, segmentId);
  const [[total], rows] = await Promise.all([
    db.select({ n: count() }).from(segmentMembers).where(where),
    db
      .select({ contact: contacts })
      .from(segmentMembers)
      .innerJoin(contacts, eq(contacts.id, segmentMembers.contactId))
      .where(where)
      .orderBy(asc(segmentMembers.contactId))
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize),
  ]);
  return { total: total!.n, rows: rows.map((r) => r.contact) };
}

/** Deletes a segment; its stored members go with it. */
export async function deleteSegment(tx: Tx, id: string): Promise<void> {
  await tx.delete(segments).where(eq(segments.id, id));
}
