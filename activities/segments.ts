/** Segment membership in pages: one generation's background computation, and the time-relative refresh. */
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { RefreshCursor } from '../core/segment';
import type { Tx } from '../db/client';
import { evaluateSegmentPage, type SegmentRow } from '../db/segment-membership';
import { segments } from '../db/schema';
import type { ActivityDeps } from './deps';

export type ComputePageResult = { status: 'more'; after: string } | { status: 'done' } | { status: 'stale' };

/** Reads a segment and share-locks it, so no filter change commits while a page is evaluated. */
async function lockSegment(tx: Tx, where: ReturnType<typeof and>): Promise<SegmentRow | undefined> {
  const [row] = await tx.select().from(segments).where(where).orderBy(asc(segments.id)).limit(1).for('share');
  return row;
}

export function segmentActivities({ database, onCommandsQueued }: ActivityDeps) {
  return {
    /**
     * Evaluates the next page of contacts for one generation of a segment; the last page ends the
     * computation (`computing` false). A deleted segment or a newer generation answers `stale`.
     */
    async computeSegmentPage(req: { segmentId: string; generation: number; after: string | null; limit: number }): Promise<ComputePageResult> {
      let announced = false;
      const result = await database.db.transaction(async (tx): Promise<ComputePageResult> => {
        const segment = await lockSegment(tx, eq(segments.id, req.segmentId));
        if (!segment || segment.generation !== req.generation) return { status: 'stale' };
        // The first computation sets a baseline; a filter change announces who enters and leaves.
        const announceChanges = segment.trackMembership && !segment.initializing;
        const page = await evaluateSegmentPage(tx, segment, { after: req.after, limit: req.limit, announceChanges });
        announced = announceChanges && page.entered + page.left > 0;
        if (page.count === req.limit) return { status: 'more', after: page.last! };
        await tx.update(segments).set({ computing: false, initializing: false }).where(eq(segments.id, segment.id));
        return { status: 'done' };
      });
      if (announced) onCommandsQueued();
      return result;
    },

    /**
     * Re-evaluates the next page of the periodic refresh: the segments with a time-relative filter
     * (ones still computing are skipped: their computation is current), in id order, each over the
     * project's contacts by keyset. Answers where to go on, or null when every segment is done.
     */
    async refreshTimedSegmentsPage(req: { cursor: RefreshCursor; limit: number }): Promise<{ cursor: RefreshCursor }> {
      let announced = false;
      const result = await database.db.transaction(async (tx): Promise<{ cursor: RefreshCursor }> => {
        const timed = and(eq(segments.timeRelative, true), eq(segments.computing, false));
        const { cursor } = req;
        const segment =
          cursor && 'segmentId' in cursor
            ? await lockSegment(tx, and(timed, eq(segments.id, cursor.segmentId)))
            : await lockSegment(tx, and(timed, cursor ? gt(segments.id, cursor.afterSegment) : sql`true`));
        if (!segment) return { cursor: cursor && 'segmentId' in cursor ? { afterSegment: cursor.segmentId } : null };
        const after = cursor && 'segmentId' in cursor ? cursor.afterContact : null;
        const announceChanges = segment.trackMembership && !segment.initializing;
        const page = await evaluateSegmentPage(tx, segment, { after, limit: req.limit, announceChanges });
        announced = announceChanges && page.entered + page.left > 0;
        return { cursor: page.count === req.limit ? { segmentId: segment.id, afterContact: page.last } : { afterSegment: segment.id } };
      });
      if (announced) onCommandsQueued();
      return result;
    },
  };
}
