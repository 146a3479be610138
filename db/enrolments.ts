/** Audience enrolments: opening one, and enrolling its audience one keyset page at a time. */
import { and, asc, desc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { EnrolmentBatchResult, EnrolmentSource } from '../core/enrolment';
import type { JsonObject } from '../core/execution';
import { scheduleConfigOf } from '../core/schedule';
import type { Db, Tx } from './client';
import { enrolContact } from './enrol';
import { queueCommands } from './outbox';
import { contacts, enrolments, segmentMembers, segments, workflows } from './schema';

export type EnrolmentRow = typeof enrolments.$inferSelect;

/** Creates an enrolment; its workflow carries it out. */
export async function createEnrolment(
  tx: Tx,
  values: {
    projectId: string;
    workflowId: string;
    source: EnrolmentSource;
    segmentId?: string;
    contactIds?: string[];
    subscribedOnly: boolean;
    context: JsonObject;
  },
): Promise<EnrolmentRow> {
  const [row] = await tx
    .insert(enrolments)
    .values({ ...values, segmentId: values.segmentId ?? null, contactIds: values.contactIds ?? null })
    .returning();
  return row!;
}

/** True when `segmentId` is a segment of the project. */
export async function segmentExists(tx: Tx, projectId: string, segmentId: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: segments.id })
    .from(segments)
    .where(and(eq(segments.id, segmentId), eq(segments.projectId, projectId)));
  return row !== undefined;
}

/** Why a bulk enrolment was refused. */
export type BulkEnrolmentRefusal = 'NO_WORKFLOW' | 'WORKFLOW_DISABLED' | 'NO_SEGMENT';

/**
 * Opens a bulk enrolment of a project's enabled workflow (a segment, or a list of contact ids) and
 * queues the start of its workflow in the same transaction, so it is durable once this returns.
 */
export async function startBulkEnrolment(
  db: Db,
  input: { projectId: string; workflowId: string; segmentId?: string; contactIds?: string[]; context: JsonObject },
): Promise<{ enrolment: EnrolmentRow } | { refused: BulkEnrolmentRefusal }> {
  return db.transaction(async (tx) => {
    const [workflow] = await tx
      .select()
      .from(workflows)
      .where(and(eq(workflows.id, input.workflowId), eq(workflows.projectId, input.projectId)))
      .for('share');
    if (!workflow) return { refused: 'NO_WORKFLOW' as const };
    if (!workflow.enabled) return { refused: 'WORKFLOW_DISABLED' as const };
    if (input.segmentId !== undefined && !(await segmentExists(tx, input.projectId, input.segmentId))) return { refused: 'NO_SEGMENT' as const };
    const enrolment = await createEnrolment(tx, {
      projectId: input.projectId,
      workflowId: workflow.id,
      source: 'BULK',
      segmentId: input.segmentId,
      contactIds: input.contactIds,
      subscribedOnly: false,
      context: input.context,
    });
    await queueCommands(tx, [{ kind: 'enrolment', enrolmentId: enrolment.id }]);
    return { enrolment };
  });
}

/** An enrolment of a project's workflow, or undefined. */
export async function getEnrolment(db: Db, projectId: string, workflowId: string, enrolmentId: string): Promise<EnrolmentRow | undefined> {
  const [row] = await db
    .select()
    .from(enrolments)
    .where(and(eq(enrolments.id, enrolmentId), eq(enrolments.workflowId, workflowId), eq(enrolments.projectId, projectId)));
  return row;
}

/**
 * The enrolment of one schedule tick, created by the first call for that tick: every subscribed
 * contact (or subscribed member of the segment), with context `{scheduledAt}`. Null when the workflow
 * no longer runs on a schedule (deleted, disabled, trigger changed): a tick Temporal fired before the
 * schedule caught up with Postgres enrols nobody.
 */
export async function openTick(db: Db, workflowId: string, scheduledAt: Date): Promise<EnrolmentRow | null> {
  return db.transaction(async (tx) => {
    const [wf] = await tx.select().from(workflows).where(eq(workflows.id, workflowId)).for('share');
    if (!wf?.enabled || wf.triggerType !== 'SCHEDULE') return null;
    const config = scheduleConfigOf(wf.triggerConfig);
    await tx
      .insert(enrolments)
      .values({
        projectId: wf.projectId,
        workflowId,
        source: 'SCHEDULE',
        segmentId: config.segmentId ?? null,
        subscribedOnly: true,
        context: { scheduledAt: scheduledAt.toISOString() },
        scheduledAt,
      })
      .onConflictDoNothing({ target: [enrolments.workflowId, enrolments.scheduledAt], where: sql`source = 'SCHEDULE'` });
    const [row] = await tx
      .select()
      .from(enrolments)
      .where(and(eq(enrolments.workflowId, workflowId), eq(enrolments.scheduledAt, scheduledAt), eq(enrolments.source, 'SCHEDULE')));
    if (row && row.status === 'RUNNING' && config.segmentId && !(await segmentExists(tx, wf.projectId, config.segmentId))) {
      return finish(tx, row, 'STOPPED', 'segment not found');
    }
    return row ?? null;
  });
}

async function finish(tx: Tx, row: EnrolmentRow, status: 'COMPLETED' | 'STOPPED', stopReason?: string): Promise<EnrolmentRow> {
  const [updated] = await tx
    .update(enrolments)
    .set({ status, stopReason: stopReason ?? null, finishedAt: sql`now()` })
    .where(eq(enrolments.id, row.id))
    .returning();
  return updated!;
}

/** The next page of the audience after `cursor`, by contact id (unlocked; locked afterwards in id order). */
async function audiencePage(tx: Tx, e: EnrolmentRow, size: number): Promise<string[]> {
  const after = e.cursor ? gt(contacts.id, e.cursor) : undefined;
  const subscribed = e.subscribedOnly ? eq(contacts.subscribed, true) : undefined;
  if (e.segmentId) {
    const rows = await tx
      .select({ id: segmentMembers.contactId })
      .from(segmentMembers)
      .innerJoin(contacts, eq(contacts.id, segmentMembers.contactId))
      .where(and(eq(segmentMembers.segmentId, e.segmentId), e.cursor ? gt(segmentMembers.contactId, e.cursor) : undefined, subscribed))
      .orderBy(asc(segmentMembers.contactId))
      .limit(size);
    return rows.map((r) => r.id);
  }
  const where: (SQL | undefined)[] = [eq(contacts.projectId, e.projectId), after, subscribed];
  if (e.contactIds) where.push(inArray(contacts.id, e.contactIds));
  const rows = await tx
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(...where))
    .orderBy(asc(contacts.id))
    .limit(size);
  return rows.map((r) => r.id);
}

/** Thrown inside a batch's transaction when another attempt of the same batch committed first. */
class BatchSuperseded extends Error {}

/**
 * Enrols the next page of an enrolment's audience in one transaction, through the same path as
 * /v1/track (enrolContact: re-entry rules, execution row, queued start), and moves its cursor and
 * counters with it. Locks as every enrolment does: the page's contacts in id order, then the
 * workflow's row shared. A contact the audience no longer holds (unsubscribed, gone) counts as skipped.
 */
export async function enrolBatch(db: Db, enrolmentId: string, size: number): Promise<EnrolmentBatchResult & { queued: boolean }> {
  const idle = { done: true, enrolled: 0, skipped: 0, queued: false };
  try {
    return await db.transaction(async (tx) => {
      const [e] = await tx.select().from(enrolments).where(eq(enrolments.id, enrolmentId));
      if (e?.status !== 'RUNNING') return idle;
      // One row more than a page: a last page that happens to be full ends the enrolment at once.
      const ahead = await audiencePage(tx, e, size + 1);
      const page = ahead.slice(0, size);
      const locked = page.length
        ? await tx
            .select({ id: contacts.id, subscribed: contacts.subscribed })
            .from(contacts)
            .where(and(inArray(contacts.id, page), eq(contacts.projectId, e.projectId)))
            .orderBy(asc(contacts.id))
            .for('update')
        : [];
      const [workflow] = await tx.select().from(workflows).where(eq(workflows.id, e.workflowId)).for('share');
      // Deleted: the enrolment went with it.
      if (!workflow) return idle;
      if (!workflow.enabled) {
        await finish(tx, e, 'STOPPED', 'workflow disabled');
        return idle;
      }
      let enrolled = 0;
      for (const c of locked) {
        if (e.subscribedOnly && !c.subscribed) continue;
        const trigger = { type: e.source, enrolmentId: e.id, ...(e.scheduledAt ? { scheduledAt: e.scheduledAt.toISOString() } : {}) };
        const result = await enrolContact(tx, { workflow, contactId: c.id, context: e.context, trigger });
        if (result.ok) enrolled += 1;
      }
      const skipped = page.length - enrolled;
      const done = ahead.length <= size;
      const [moved] = await tx
        .update(enrolments)
        .set({
          cursor: page.length ? page[page.length - 1]! : e.cursor,
          enrolled: sql`${enrolments.enrolled} + ${enrolled}`,
          // A list's ids that name no contact of the project were never in a page: skipped too.
          skipped: done && e.contactIds ? sql`${e.contactIds.length} - ${enrolments.enrolled} - ${enrolled}` : sql`${enrolments.skipped} + ${skipped}`,
          ...(done ? { status: 'COMPLETED', finishedAt: sql`now()` } : {}),
        })
        .where(and(eq(enrolments.id, e.id), eq(enrolments.status, 'RUNNING'), e.cursor ? eq(enrolments.cursor, e.cursor) : sql`${enrolments.cursor} is null`))
        .returning({ id: enrolments.id });
      if (!moved) throw new BatchSuperseded();
      return { done, enrolled, skipped, queued: enrolled > 0 };
    });
  } catch (err) {
    // The other attempt's work stands; the caller asks again from the cursor it left.
    if (err instanceof BatchSuperseded) return { done: false, enrolled: 0, skipped: 0, queued: false };
    throw err;
  }
}

/** The latest tick's enrolment of a workflow, for GET /workflows/:id. */
export async function lastTick(tx: Tx, workflowId: string): Promise<EnrolmentRow | undefined> {
  const [row] = await tx
    .select()
    .from(enrolments)
    .where(and(eq(enrolments.workflowId, workflowId), eq(enrolments.source, 'SCHEDULE')))
    .orderBy(desc(enrolments.scheduledAt))
    .limit(1);
  return row;
}
