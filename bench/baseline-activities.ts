/** Activities of the baseline: one contact update, one SMTP send — no bookkeeping. */
import { eq, sql } from 'drizzle-orm';
import type { Transporter } from 'nodemailer';
import type { Database } from '../db/client';
import { contacts } from '../db/schema';

export function baselineActivities(database: Database, transport: Transporter) {
  return {
    async baselineUpdateContact(contactId: string, data: Record<string, unknown>): Promise<void> {
      await database.db
        .update(contacts)
        .set({ data: sql`${contacts.data} || ${JSON.stringify(data)}::jsonb`, updatedAt: sql`now()` })
        .where(eq(contacts.id, contactId));
    },
    async baselineSendEmail(to: string): Promise<void> {
      await transport.sendMail({ from: 'bench@trellis.test', to, subject: 'baseline', html: '<p>baseline</p>' });
    },
  };
}

export type BaselineActivities = ReturnType<typeof baselineActivities>;
