/** Contact writes shared by the API, /v1/track and the UPDATE_CONTACT step. */
import { and, eq, sql } from 'drizzle-orm';
import type { JsonObject } from '../core/execution';
import type { Tx } from './client';
import { recordEvent } from './events';
import { contacts } from './schema';
import { refreshMembership } from './segment-membership';

export type ContactRow = typeof contacts.$inferSelect;

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
}

/**
 * Applies a change to a locked contact row: a shallow merge of `data`, a change of `subscribed`
 * recorded as `contact.subscribed` / `contact.unsubscribed`, then its segment membership re-evaluated.
 */
export async function updateContactRow(tx: Tx, current: ContactRow, change: ContactChange): Promise<ContactRow> {
  const { set, remove } = splitPatch(change.data ?? {});
  const [row] = await tx
    .update(contacts)
    .set({
      ...(change.email !== undefined ? { email: normalizeEmail(change.email) } : {}),
      ...(change.subscribed !== undefined ? { subscribed: change.subscribed } : {}),
      ...(change.data !== undefined
        ? // One array parameter: a bare JS array would be expanded into a `($1, $2)` list.
          { data: sql`(${contacts.data} || ${JSON.stringify(set)}::jsonb) - ${sql.param(remove)}::text[]` }
        : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(contacts.id, current.id))
    .returning();
  if (change.subscribed !== undefined && change.subscribed !== current.subscribed) {
    await recordEvent(tx, {
      projectId: current.projectId,
      contactId: current.id,
      name: change.subscribed ? 'contact.subscribed' : 'contact.unsubscribed',
      data: {},
    });
  }
  await refreshMembership(tx, row!);
  return row!;
}

/** Reads a contact of a project and locks its row for the rest of the transaction. */
export async function lockContact(tx: Tx, projectId: string, contactId: string): Promise<ContactRow | undefined> {
  const [row] = await tx
    .select()
    .from(contacts)
    .where(and(eq(contacts.id, contactId), eq(contacts.projectId, projectId)))
    .for('update');
  return row;
}

/**
 * Finds or creates the contact with `email` and locks it. New contacts take `subscribed` (default true)
 * and `data`; an existing one gets `data` merged and `subscribed` flipped when given. Either way its
 * segment membership follows.
 */
export async function upsertContact(
  tx: Tx,
  projectId: string,
  email: string,
  change: { subscribed?: boolean; data?: JsonObject },
): Promise<{ contact: ContactRow; created: boolean }> {
  const normalized = normalizeEmail(email);
  const { set } = splitPatch(change.data ?? {});
  const [inserted] = await tx
    .insert(contacts)
    .values({ projectId, email: normalized, subscribed: change.subscribed ?? true, data: set })
    .onConflictDoNothing()
    .returning();
  if (inserted) {
    await refreshMembership(tx, inserted, { contactIsNew: true });
    return { contact: inserted, created: true };
  }
  const [existing] = await tx
    .select()
    .from(contacts)
    .where(and(eq(contacts.projectId, projectId), eq(contacts.email, normalized)))
    .for('update');
  if (!existing) throw new Error('contact vanished during upsert');
  const needsUpdate = change.data !== undefined || (change.subscribed !== undefined && change.subscribed !== existing.subscribed);
  const contact = needsUpdate ? await updateContactRow(tx, existing, change) : existing;
  return { contact, created: false };
}

/** Creates a contact (undefined when its email exists in the project) and stores its segment membership. */
export async function insertContact(
  tx: Tx,
  projectId: string,
  input: { email: string; subscribed?: boolean; data?: JsonObject },
): Promise<ContactRow | undefined> {
  const [row] = await tx
    .insert(contacts)
    .values({ projectId, email: normalizeEmail(input.email), subscribed: input.subscribed ?? true, data: splitPatch(input.data ?? {}).set })
    .onConflictDoNothing()
    .returning();
  if (row) await refreshMembership(tx, row, { contactIsNew: true });
  return row;
}
