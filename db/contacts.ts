/** Contact writes shared by the API, /v1/track and the UPDATE_CONTACT step. */
import { and, arrayContains, desc, eq, ilike } from 'drizzle-orm';
import type { JsonObject } from '../core/execution';
import { MAX_TAGS, TooManyTags, nextTags, tagDiff, tagEventName } from '../core/tags';
import { cancelExecutions } from './cancel';
import { type Db, prepared, rowColumns, runPrepared, type Tx } from './client';
import { enrolmentRows } from './enrol';
import { type EventRow, recordEvent, triggeredBy, type WorkflowJson } from './events';
import { selectPage, type PageQuery, type RowPage } from './paging';
import { contacts, events, executions } from './schema';
import { likePattern } from './search';
import { FILTER_GOALS_OF, type FilterGoal } from './exits';
import { refreshMembership, SEGMENT_FOR_CONTACT_FIELDS, SEGMENTS_FOR_CONTACT, type SegmentForContact } from './segment-membership';

export type ContactRow = typeof contacts.$inferSelect;

// /v1/track's statements, prepared (db/client.ts).
/** A new contact ($1 project, $2 email, $3 subscribed, $4 data, $5 tags) returned; no row when its email exists. */
const INSERT_NEW_CONTACT = `insert into contacts (project_id, email, subscribed, data, tags) values ($1, $2, $3, $4::jsonb, $5::text[])
     on conflict do nothing returning ${rowColumns(contacts)}`;
/** The project's ($1) segments, of none of which a new contact is a member yet. */
const PROJECT_SEGMENTS = `(select coalesce(json_agg(s order by s.id), '[]'::json)
      from (select ${SEGMENT_FOR_CONTACT_FIELDS}, false as member from segments s where s.project_id = $1) s) as segments`;
/** Creates the contact unless its email exists; with it, the project's segments (one round trip for both). */
const insertNewContact = prepared('contacts.insert-new', `with contact as (${INSERT_NEW_CONTACT}) select contact.*, ${PROJECT_SEGMENTS} from contact`);
/**
 * The same for /v1/track, which also stores the contact's event (name $6, data $7) when nothing
 * comes between the two — no tags are added (no tag events) and the project has no segments (no
 * entries) — with the workflows it triggers, read and locked as recordEvent reads them: one round
 * trip. `event` and `triggered` are null when the event is left to recordEvent.
 */
const insertNewContactAndEvent = prepared(
  'contacts.insert-new-and-event',
  `with contact as (${INSERT_NEW_CONTACT}),
   event as (
     insert into events (project_id, contact_id, name, data, depth, created_at)
     select $1, contact.id, $6, $7::jsonb, 0, clock_timestamp() from contact
      where cardinality($5::text[]) = 0 and not exists (select 1 from segments where project_id = $1)
     returning ${rowColumns(events)})
   select contact.*, ${PROJECT_SEGMENTS}, (select row_to_json(event) from event) as event,
     case when exists (select 1 from event)
       then (select coalesce(json_agg(w order by w.id), '[]'::json) from (${triggeredBy('$6')}) w) end as triggered
   from contact`,
);
/**
 * A new contact's first event when nothing else follows from it but enrolments that need no
 * decision: the project has no segments, and each enabled EVENT workflow triggered by the name
 * (read and locked as recordEvent reads them) has the snapshot of its current version already and
 * no goal filter. Then the contact, the event and, for each such workflow, the execution RUNNING at
 * its TRIGGER step (WAITING in its opening wait) with the steps' records and its queued start —
 * enrolContact's rows for a new contact, written by the same statement parts (db/enrol.ts
 * enrolmentRows) — are stored by one statement, committed on its own (no BEGIN, no COMMIT);
 * otherwise it stores nothing and says why.
 * ($1 project, $2 email, $3 subscribed, $4 contact data, $5 name, $6 event data.)
 */
const insertNewContactWithEvent = prepared(
  'contacts.insert-new-with-event',
  `with triggered as (
     select t.id, t.version, v.graph from (${triggeredBy('$5')}) t
       left join workflow_versions v on v.workflow_id = t.id and v.version = t.version),
   quiet as (
     select not exists (select 1 from segments where project_id = $1)
       and not exists (select 1 from triggered where graph is null or graph->'exitOn'->'filter' is not null) as ok),
   contact as (
     insert into contacts (project_id, email, subscribed, data, tags)
     select $1, $2, $3, $4::jsonb, '{}'::text[] from quiet where quiet.ok
     on conflict do nothing returning id),
   event as (
     insert into events (project_id, contact_id, name, data, depth, created_at)
     select $1, contact.id, $5, $6::jsonb, 0, clock_timestamp() from contact returning id, created_at),
   ${enrolmentRows(
     `select $1::uuid as project_id, t.id as workflow_id, contact.id as contact_id, $6::jsonb as context, t.version as workflow_version,
        0 as depth, s.id as trigger_id, s.name as trigger_name, jsonb_build_object('type', 'EVENT', 'event', $5::text, 'eventId', event.id) as trigger_output,
        w.id as wait_id, w.name as wait_name, w.event as wait_event
      from triggered t cross join contact cross join event
      left join lateral (
        select (x->>'id')::uuid as id, x->>'name' as name from jsonb_array_elements(t.graph->'steps') x where x->>'type' = 'TRIGGER' limit 1) s on true
      -- openingWait (core/graph.ts): the first unbranched transition out of the TRIGGER, to a WAIT_FOR_EVENT.
      left join lateral (
        select x->>'toStepId' as id from jsonb_array_elements(t.graph->'transitions') with ordinality as tr(x, i)
         where x->>'fromStepId' = s.id::text and jsonb_typeof(x->'branch') = 'null' order by tr.i limit 1) f on true
      left join lateral (
        select (x->>'id')::uuid as id, x->>'name' as name, x->'config'->>'eventName' as event from jsonb_array_elements(t.graph->'steps') x
         where x->>'id' = f.id and x->>'type' = 'WAIT_FOR_EVENT' limit 1) w on true`,
     { queueStart: true },
   )}
   select quiet.ok as "quiet", contact.id as "contactId", event.id as "eventId", event.created_at as "createdAt",
     (select count(*)::int from execution) as enrolled
   from quiet left join contact on true left join event on true`,
);
/**
 * Applies a change to a locked contact ($1): email ($2), subscribed ($3), a data merge ($4, with the
 * keys $5 removed) and tags ($6), each only when given (not null). With the changed row, what its
 * re-evaluation reads next, in the same round trip: its active runs with an exit filter
 * (`filterGoals`) and its project's segments with its stored membership (`segments`). The caller
 * must hold the row lock (FOR UPDATE) already: then the statement never waits, and its reads see
 * what statements of their own after the lock would see. (One that waited for the lock would read
 * from the snapshot taken before the wait: stale memberships, entries announced twice.)
 */
const updateContactReadingGoals = prepared(
  'contacts.update-reading-goals',
  `with contact as (
     update contacts set
       email = coalesce($2, email),
       subscribed = coalesce($3::boolean, subscribed),
       data = case when $4::jsonb is null then data else (data || $4::jsonb) - $5::text[] end,
       tags = coalesce($6::text[], tags),
       updated_at = now()
     where id = $1 returning ${rowColumns(contacts)})
   select contact.*,
     (select coalesce(json_agg(g), '[]'::json) from (${FILTER_GOALS_OF('$1')}) g) as "filterGoals",
     (select coalesce(json_agg(s order by s.id), '[]'::json) from (${SEGMENTS_FOR_CONTACT('contact."projectId"', '$1')}) s) as segments
   from contact`,
);
const lockContactByEmail = prepared('contacts.lock-by-email', `select ${rowColumns(contacts)} from contacts where project_id = $1 and email = $2 for update`);

import { normalizeEmail } from '../core/email-address';

export { normalizeEmail };

/** Splits a data patch into keys to set and keys to remove (`null` removes, SPEC §5.1). */
export function splitPatch(patch: JsonObject): { set: JsonObject; remove: string[] } {
  const set: JsonObject = {};
  const remove: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) remove.push(k);
    else if (v !== undefined) set[k] = v;
  }
  return { set, remove };
}

export interface ContactChange {
  email?: string;
  subscribed?: boolean;
  data?: JsonObject;
  /** Replaces the tags (then addTags and removeTags apply). Tags are already lower-cased slugs. */
  tags?: string[];
  addTags?: string[];
  removeTags?: string[];
}

/**
 * Applies a change to a locked contact row: a shallow merge of `data`, a change of `subscribed`
 * recorded as `contact.subscribed` / `contact.unsubscribed`, each tag gained or lost recorded as
 * `tag.<tag>.added` / `.removed`, then its segment membership re-evaluated. Throws TooManyTags.
 */
export async function updateContactRow(tx: Tx, current: ContactRow, change: ContactChange, cause: { depth?: number } = {}): Promise<ContactRow> {
  const { set, remove } = splitPatch(change.data ?? {});
  const tags = nextTags(current.tags, { set: change.tags, add: change.addTags, remove: change.removeTags });
  const tagChange = tagDiff(current.tags, tags);
  if (tags.length > MAX_TAGS && tagChange.added.length > 0) throw new TooManyTags();
  const tagsChanged = tagChange.added.length > 0 || tagChange.removed.length > 0;
  const [updated] = await runPrepared<ContactRow & { filterGoals: FilterGoal[]; segments: SegmentForContact[] }>(tx, updateContactReadingGoals, [
    current.id,
    change.email !== undefined ? normalizeEmail(change.email) : null,
    change.subscribed ?? null,
    change.data !== undefined ? JSON.stringify(set) : null,
    remove,
    tagsChanged ? tags : null,
  ]);
  if (!updated) throw new Error(`contact ${current.id} vanished while locked`);
  const { filterGoals, segments, ...row } = updated;
  const subscribedChanged = change.subscribed !== undefined && change.subscribed !== current.subscribed;
  if (subscribedChanged) {
    await recordEvent(tx, {
      projectId: current.projectId,
      contactId: current.id,
      name: change.subscribed ? 'contact.subscribed' : 'contact.unsubscribed',
      data: {},
      depth: cause.depth,
    });
  }
  await recordTagEvents(tx, row, tagChange, { depth: cause.depth });
  // Events recorded since may have ended or started runs: then the goals are read again.
  await refreshMembership(tx, row, { depth: cause.depth, segments, filterGoals: subscribedChanged || tagsChanged ? undefined : filterGoals });
  return row;
}

/** Records `tag.<tag>.added` / `.removed` for each tag a contact gained or lost. */
async function recordTagEvents(
  tx: Tx,
  contact: ContactRow,
  change: { added: string[]; removed: string[] },
  options: { contactIsNew?: boolean; depth?: number },
): Promise<void> {
  const record = (name: string, t: string) =>
    recordEvent(tx, { projectId: contact.projectId, contactId: contact.id, name, data: { tag: t }, contactIsNew: options.contactIsNew, depth: options.depth });
  for (const t of change.added) await record(tagEventName(t, 'added'), t);
  for (const t of change.removed) await record(tagEventName(t, 'removed'), t);
}

const lockContactRow = prepared('contacts.lock', `select ${rowColumns(contacts)} from contacts where id = $1 and project_id = $2 for update`);

/** Reads a contact of a project and locks its row for the rest of the transaction. */
export async function lockContact(tx: Tx, projectId: string, contactId: string): Promise<ContactRow | undefined> {
  const [row] = await runPrepared<ContactRow>(tx, lockContactRow, [contactId, projectId]);
  return row;
}

/**
 * Finds or creates the contact with `email` and locks it. New contacts take `subscribed` (default true)
 * and `data`; an existing one gets `data` merged and `subscribed` flipped when given. Either way its
 * segment membership follows. With `event` (/v1/track's), a new contact's event may be stored with
 * it (see insertNewContactAndEvent): then `event` answers it with the workflows it triggers, and the
 * caller enrols the contact (enrolForNewContactEvent) instead of recording the event.
 * `likelyExists`: the caller has reason to think the contact exists, so its lock is tried first.
 */
export async function upsertContact(
  tx: Tx,
  projectId: string,
  email: string,
  change: { subscribed?: boolean; data?: JsonObject; addTags?: string[] },
  event?: { name: string; data: JsonObject },
  options: { likelyExists?: boolean } = {},
): Promise<{ contact: ContactRow; created: boolean; event?: { row: EventRow; triggered: WorkflowJson[] } }> {
  const normalized = normalizeEmail(email);
  const tags = change.addTags ?? [];
  /** The contact found existing, locked: changed as asked. */
  const changed = async (existing: ContactRow) => {
    const needsUpdate =
      change.data !== undefined ||
      (change.subscribed !== undefined && change.subscribed !== existing.subscribed) ||
      tags.some((t) => !existing.tags.includes(t));
    return { contact: needsUpdate ? await updateContactRow(tx, existing, change) : existing, created: false };
  };
  // A contact the caller has seen exist is locked first: one round trip instead of the insert that
  // finds it and the lock (a guess that misses costs the lock's round trip).
  if (options.likelyExists) {
    const [existing] = await runPrepared<ContactRow>(tx, lockContactByEmail, [projectId, normalized]);
    if (existing) return changed(existing);
  }
  const { set } = splitPatch(change.data ?? {});
  const values = [projectId, normalized, change.subscribed ?? true, JSON.stringify(set), tags];
  const [row] = event
    ? await runPrepared<NewContact>(tx, insertNewContactAndEvent, [...values, event.name, JSON.stringify(event.data)])
    : await runPrepared<NewContact>(tx, insertNewContact, values);
  if (row) {
    const { segments, event: stored, triggered, ...inserted } = row;
    // Stored with the contact: no tags, no segments.
    if (stored && triggered) return { contact: inserted, created: true, event: { row: { ...stored, createdAt: new Date(stored.createdAt) }, triggered } };
    await recordTagEvents(tx, inserted, { added: tags, removed: [] }, { contactIsNew: true });
    await refreshMembership(tx, inserted, { contactIsNew: true, segments });
    return { contact: inserted, created: true };
  }
  const [existing] = await runPrepared<ContactRow>(tx, lockContactByEmail, [projectId, normalized]);
  if (!existing) throw new Error('contact vanished during upsert');
  return changed(existing);
}

/** A contact the insert statements created, with what they read (and the event insertNewContactAndEvent stored). */
type NewContact = ContactRow & {
  segments: SegmentForContact[];
  event?: (Omit<EventRow, 'createdAt'> & { createdAt: string }) | null;
  triggered?: WorkflowJson[] | null;
};

/**
 * What storeFirstEvent did: stored both (and enrolled the contact in `enrolled` workflows, whose
 * starts are queued), or nothing because the contact exists or the event has other consequences.
 */
export type FirstEventResult =
  | { stored: true; contactId: string; eventId: string; createdAt: Date; enrolled: number }
  | { stored: false; reason: 'contact-exists' | 'consequences' };

/**
 * Stores a contact that does not exist yet together with its first event, in one statement, when
 * that and enrolments that need no decision are all the event does: the project has no segments
 * (nothing to evaluate), and every enabled EVENT workflow triggered by `name` has its current
 * version's snapshot (taken at its first enrolment) and no goal filter (a new contact has no
 * earlier runs for the re-entry rules to weigh, and no runs to reach). The outcome is what
 * upsertContact + recordEvent store in that case. Otherwise nothing is written, and the caller takes
 * the transaction that does everything.
 */
export async function storeFirstEvent(
  db: Db,
  input: { projectId: string; email: string; subscribed?: boolean; contactData: JsonObject; name: string; eventData: JsonObject },
): Promise<FirstEventResult> {
  const [row] = await runPrepared<{ quiet: boolean; contactId: string | null; eventId: string | null; createdAt: Date | null; enrolled: number }>(
    db,
    insertNewContactWithEvent,
    [
      input.projectId,
      normalizeEmail(input.email),
      input.subscribed ?? true,
      JSON.stringify(splitPatch(input.contactData).set),
      input.name,
      JSON.stringify(input.eventData),
    ],
  );
  if (!row?.quiet) return { stored: false, reason: 'consequences' };
  if (row.contactId === null || row.eventId === null || row.createdAt === null) return { stored: false, reason: 'contact-exists' };
  return { stored: true, contactId: row.contactId, eventId: row.eventId, createdAt: row.createdAt, enrolled: row.enrolled };
}

/** Creates a contact (undefined when its email exists in the project) and stores its segment membership. */
export async function insertContact(
  tx: Tx,
  projectId: string,
  input: { email: string; subscribed?: boolean; data?: JsonObject; tags?: string[] },
): Promise<ContactRow | undefined> {
  const tags = input.tags ?? [];
  const [row] = await tx
    .insert(contacts)
    .values({ projectId, email: normalizeEmail(input.email), subscribed: input.subscribed ?? true, data: splitPatch(input.data ?? {}).set, tags })
    .onConflictDoNothing()
    .returning();
  if (!row) return undefined;
  await recordTagEvents(tx, row, { added: tags, removed: [] }, { contactIsNew: true });
  await refreshMembership(tx, row, { contactIsNew: true });
  return row;
}

/** A page of a project's contacts, newest first, optionally those whose email contains `search` or with `tag`. */
export function contactPage(db: Db, projectId: string, q: PageQuery & { search?: string; tag?: string }): Promise<RowPage<ContactRow>> {
  const where = and(
    eq(contacts.projectId, projectId),
    q.search ? ilike(contacts.email, likePattern(q.search)) : undefined,
    q.tag ? arrayContains(contacts.tags, [q.tag]) : undefined,
  );
  return selectPage(db, contacts, where, [desc(contacts.createdAt), desc(contacts.id)], q);
}

/** A contact of a project, or undefined. */
export async function getContact(db: Db, projectId: string, contactId: string): Promise<ContactRow | undefined> {
  const [row] = await db
    .select()
    .from(contacts)
    .where(and(eq(contacts.id, contactId), eq(contacts.projectId, projectId)));
  return row;
}

/** Whether a project has the contact. */
export async function contactExists(db: Db, projectId: string, contactId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(eq(contacts.id, contactId), eq(contacts.projectId, projectId)));
  return row !== undefined;
}

/** A page of a contact's executions, newest first. */
export function contactExecutionPage(db: Db, contactId: string, q: PageQuery): Promise<RowPage<typeof executions.$inferSelect>> {
  return selectPage(db, executions, eq(executions.contactId, contactId), [desc(executions.startedAt), desc(executions.id)], q);
}

/** Locks a contact of a project and applies `change` (see updateContactRow); undefined when there is no such contact. Throws TooManyTags. */
export function changeContact(db: Db, projectId: string, contactId: string, change: ContactChange): Promise<ContactRow | undefined> {
  return db.transaction(async (tx) => {
    const current = await lockContact(tx, projectId, contactId);
    return current ? updateContactRow(tx, current, change) : undefined;
  });
}

/** Deletes a contact of a project, cancelling its executions first; false when there is no such contact. */
export function deleteContact(db: Db, projectId: string, contactId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const current = await lockContact(tx, projectId, contactId);
    if (!current) return false;
    await cancelExecutions(tx, eq(executions.contactId, contactId));
    await tx.delete(contacts).where(eq(contacts.id, contactId));
    return true;
  });
}

/**
 * Sets a contact's subscription from an email link (recording the change, if any): answers whether it
 * changed, or undefined when the contact is gone.
 */
export function setSubscription(db: Db, contactId: string, subscribed: boolean): Promise<boolean | undefined> {
  return db.transaction(async (tx) => {
    const [contact] = await tx.select().from(contacts).where(eq(contacts.id, contactId)).for('update');
    if (!contact) return undefined;
    if (contact.subscribed === subscribed) return false;
    await updateContactRow(tx, contact, { subscribed });
    return true;
  });
}
