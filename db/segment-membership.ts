/**
 * Stored segment membership (SPEC §5.7): re-evaluating one contact after it changed, and one page of
 * contacts for the background computation and the periodic refresh. Both use the CONDITION evaluator
 * and record `segment.<slug>.entry` / `.exit` through recordEvent, like every system event.
 */
import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import { evaluateFilter, type Filter } from '../core/filter';
import { membershipEventName } from '../core/segment';
import { prepared, runPrepared, type Tx } from './client';
import type { ContactRow } from './contacts';
import { recordEvent } from './events';
import { contactSubject, exitOnFilterMatch, type FilterGoal } from './exits';
import { contacts, segmentMembers, type segments } from './schema';

export type SegmentRow = typeof segments.$inferSelect;
type Announced = Pick<SegmentRow, 'id' | 'name' | 'slug' | 'projectId'>;
/** A segment as a contact's re-evaluation needs it, with whether the contact is a stored member. */
export type SegmentForContact = Announced & Pick<SegmentRow, 'filter' | 'trackMembership' | 'initializing'> & { member: boolean };

/** The select list of a SegmentForContact from `segments s`, without `member`. */
export const SEGMENT_FOR_CONTACT_FIELDS = `s.id, s.project_id as "projectId", s.name, s.slug, s.filter, s.track_membership as "trackMembership", s.initializing`;

/** A project's (`project`) segments as SegmentForContact rows, each with whether the contact (`contact`) is a stored member. */
export const SEGMENTS_FOR_CONTACT = (project: string, contact: string) =>
  `select ${SEGMENT_FOR_CONTACT_FIELDS}, m.contact_id is not null as member
   from segments s left join segment_members m on m.segment_id = s.id and m.contact_id = ${contact}
   where s.project_id = ${project} order by s.id`;

/** Every track runs it: prepared. */
const segmentsForContact = prepared('segments.for-contact', SEGMENTS_FOR_CONTACT('$1', '$2'));

async function announce(tx: Tx, segment: Announced, contactId: string, change: 'entry' | 'exit', contactIsNew?: boolean, depth?: number): Promise<void> {
  await recordEvent(tx, {
    projectId: segment.projectId,
    contactId,
    name: membershipEventName(segment.slug, change),
    data: { segmentId: segment.id, segmentName: segment.name },
    contactIsNew,
    depth,
  });
}

/**
 * Re-evaluates one contact, just changed or created in the caller's transaction (which holds its row
 * lock), against every segment of its project, and stores the outcome. One indexed query when the
 * project has no segments. Answers how many entry/exit events it recorded.
 */
export async function refreshMembership(
  tx: Tx,
  contact: ContactRow,
  options: {
    contactIsNew?: boolean;
    depth?: number;
    /** The project's segments with the contact's membership, as the statement that created or changed the contact read them. */
    segments?: SegmentForContact[];
    /** The contact's active runs with an exit filter, as the statement that changed it read them. */
    filterGoals?: FilterGoal[];
  } = {},
): Promise<number> {
  // The same change may reach an exit goal (SPEC §14.3); a contact created by this transaction has no executions.
  if (!options.contactIsNew) await exitOnFilterMatch(tx, contact.id, contactSubject(contact), options.filterGoals);
  const rows = options.segments ?? (await runPrepared<SegmentForContact>(tx, segmentsForContact, [contact.projectId, contact.id]));
  if (rows.length === 0) return 0;
  const subject = contactSubject(contact);
  const now = Date.now();
  const changed = rows
    .map((s) => ({ segment: s, matches: evaluateFilter(s.filter as unknown as Filter, subject, now) }))
    .filter(({ segment, matches }) => matches !== segment.member);
  const entered = changed.filter((c) => c.matches).map((c) => c.segment);
  const left = changed.filter((c) => !c.matches).map((c) => c.segment);
  if (entered.length) {
    await tx
      .insert(segmentMembers)
      .values(entered.map((s) => ({ segmentId: s.id, contactId: contact.id })))
      .onConflictDoNothing();
  }
  if (left.length) {
    await tx.delete(segmentMembers).where(
      and(
        eq(segmentMembers.contactId, contact.id),
        inArray(
          segmentMembers.segmentId,
          left.map((s) => s.id),
        ),
      ),
    );
  }
  let recorded = 0;
  for (const { segment, matches } of changed) {
    // Until its first computation ends a segment's stored membership is no baseline to announce changes from.
    if (!segment.trackMembership || segment.initializing) continue;
    await announce(tx, segment, contact.id, matches ? 'entry' : 'exit', options.contactIsNew, options.depth);
    recorded++;
  }
  return recorded;
}

/**
 * Re-evaluates the page of the project's contacts after `after` (keyset by id, at most `limit`,
 * share-locked so a concurrent change of one of them waits and then re-evaluates it itself) against
 * one segment, storing the outcome and, with `announceChanges`, recording entry/exit events.
 */
export async function evaluateSegmentPage(
  tx: Tx,
  segment: SegmentRow,
  page: { after: string | null; limit: number; announceChanges: boolean },
): Promise<{ count: number; last: string | null; entered: number; left: number }> {
  const rows = await tx
    .select()
    .from(contacts)
    .where(and(eq(contacts.projectId, segment.projectId), page.after ? gt(contacts.id, page.after) : undefined))
    .orderBy(asc(contacts.id))
    .limit(page.limit)
    .for('share');
  if (rows.length === 0) return { count: 0, last: null, entered: 0, left: 0 };
  const ids = rows.map((c) => c.id);
  const members = await tx
    .select({ contactId: segmentMembers.contactId })
    .from(segmentMembers)
    .where(and(eq(segmentMembers.segmentId, segment.id), inArray(segmentMembers.contactId, ids)));
  const isMember = new Set(members.map((m) => m.contactId));
  const filter = segment.filter as unknown as Filter;
  const now = Date.now();
  const entered: string[] = [];
  const left: string[] = [];
  for (const contact of rows) {
    const matches = evaluateFilter(filter, contactSubject(contact), now);
    if (matches && !isMember.has(contact.id)) entered.push(contact.id);
    if (!matches && isMember.has(contact.id)) left.push(contact.id);
  }
  if (entered.length) {
    await tx
      .insert(segmentMembers)
      .values(entered.map((contactId) => ({ segmentId: segment.id, contactId })))
      .onConflictDoNothing();
  }
  if (left.length) {
    await tx.delete(segmentMembers).where(and(eq(segmentMembers.segmentId, segment.id), inArray(segmentMembers.contactId, left)));
  }
  if (page.announceChanges) {
    for (const contactId of entered) await announce(tx, segment, contactId, 'entry');
    for (const contactId of left) await announce(tx, segment, contactId, 'exit');
  }
  return { count: rows.length, last: ids[ids.length - 1]!, entered: entered.length, left: left.length };
}
