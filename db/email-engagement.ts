/** Opens and clicks of sent emails (SPEC §8), each recorded with its event in the caller's transaction. */
import { createHash } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from './client';
import { recordEvent } from './events';
import { emailClicks, emails } from './schema';

/** Records the first open of an email (`email.opened`); false when it was opened before or is gone. */
export async function recordOpen(tx: Tx, emailId: string): Promise<boolean> {
  // Only the first open sets openedAt; a concurrent one waits for the row and then finds it set.
  const [email] = await tx
    .update(emails)
    .set({ openedAt: sql`now()` })
    .where(and(eq(emails.id, emailId), isNull(emails.openedAt)))
    .returning({ projectId: emails.projectId, contactId: emails.contactId, messageId: emails.messageId });
  if (!email) return false;
  const data = { emailId, messageId: email.messageId };
  await recordEvent(tx, { projectId: email.projectId, contactId: email.contactId, name: 'email.opened', data });
  return true;
}

/** Records the first click of a link in an email (`email.clicked`); false when it was clicked before or the email is gone. */
export async function recordClick(tx: Tx, emailId: string, url: string): Promise<boolean> {
  // Shared lock: the email cannot be erased between this read and the click's insert.
  const [email] = await tx
    .select({ projectId: emails.projectId, contactId: emails.contactId, messageId: emails.messageId })
    .from(emails)
    .where(eq(emails.id, emailId))
    .for('share');
  // An erased email's links still lead where they pointed, but record nothing.
  if (!email) return false;
  const linkHash = createHash('sha256').update(url).digest('hex');
  const [first] = await tx.insert(emailClicks).values({ emailId, linkHash, link: url }).onConflictDoNothing().returning({ emailId: emailClicks.emailId });
  if (!first) return false;
  await tx
    .update(emails)
    .set({ clickedAt: sql`now()` })
    .where(and(eq(emails.id, emailId), isNull(emails.clickedAt)));
  const data = { emailId, messageId: email.messageId, link: url };
  await recordEvent(tx, { projectId: email.projectId, contactId: email.contactId, name: 'email.clicked', data });
  return true;
}
